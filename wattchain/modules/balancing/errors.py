"""Errors of the balancing module (codespace "balancing").

Codes are public and never change meaning; append new ones.
"""

from __future__ import annotations

from wattchain.vm import errors


class BalancingError(errors.TxError, codespace="balancing", code=100):
    """Base of the balancing module's errors."""


class UnknownZone(BalancingError, code=101):
    """No zone with that id is registered."""


class NotZoneOperator(BalancingError, errors.AuthorizationError, code=102):
    """Only the DSO operating a zone sets its imbalance price bounds."""


class BadBounds(BalancingError, code=103):
    """Bounds must satisfy floor <= ceiling."""


class NotAssetOwner(BalancingError, errors.AuthorizationError, code=104):
    """Only an asset's owner offers or withdraws its flexibility."""


class NotFlexible(BalancingError, code=105):
    """The asset is not an active storage or flexible load with a bound meter."""


class BadFlexArgs(BalancingError, code=106):
    """A flexibility offer outside the asset's limits."""


class BadEmergency(BalancingError, code=107):
    """An unknown emergency kind, a severity outside 1..3 or a bad duration."""


class NoEmergency(BalancingError, code=108):
    """An all-clear for a zone that is not in an emergency."""


class RecordNotFound(errors.RecordNotFound, codespace="balancing", code=120):
    """A query for a record balancing has not made (yet)."""


class BalancingGenesisError(errors.CodedError):
    """A genesis section the balancing module cannot import."""
