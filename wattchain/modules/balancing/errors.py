"""Errors of the balancing module (codespace "balancing").

Codes are public and never change meaning; append new ones.
"""

from __future__ import annotations

from wattchain.vm.errors import QueryError, TxError


class BalancingError(TxError):
    codespace = "balancing"
    code = 100


class UnknownZone(BalancingError):
    code = 101


class NotZoneOperator(BalancingError):
    """Only the DSO operating a zone sets its imbalance price bounds."""

    code = 102


class BadBounds(BalancingError):
    """Bounds must satisfy floor <= ceiling."""

    code = 103


class RecordNotFound(QueryError):
    codespace = "balancing"
    code = 120


class NotAssetOwner(BalancingError):
    """Only an asset's owner offers or withdraws its flexibility."""

    code = 104


class NotFlexible(BalancingError):
    """The asset is not an active storage or flexible load with a bound meter."""

    code = 105


class BadFlexArgs(BalancingError):
    """A flexibility offer outside the asset's limits."""

    code = 106


class BadEmergency(BalancingError):
    """An unknown emergency kind, a severity outside 1..3 or a bad duration."""

    code = 107


class NoEmergency(BalancingError):
    """An all-clear for a zone that is not in an emergency."""

    code = 108
