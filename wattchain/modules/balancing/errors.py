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
