"""Errors of the metering module (codespace "metering").

Codes are public and never change meaning; append new ones. A rejected
*reading* is not an error: it is reported as a ``reading_rejected`` event with
one of ``REJECT_REASONS`` and the rest of its batch goes on.
"""

from __future__ import annotations

from wattchain.vm.errors import QueryError, TxError


class MeteringError(TxError):
    codespace = "metering"
    code = 100


class MissingRole(MeteringError):
    code = 101


class UnknownMeterType(MeteringError):
    code = 102


class MeterExists(MeteringError):
    code = 103


class UnknownMeter(MeteringError):
    code = 104


class NotMeterOperator(MeteringError):
    """Only the operator that registered a meter (or an admin) manages it."""

    code = 105


class InvalidTransition(MeteringError):
    code = 106


class InvalidPublicKey(MeteringError):
    code = 107


class AssetMismatch(MeteringError):
    """The asset is unknown, owned by another account, or in another zone."""

    code = 108


class KeyInUse(MeteringError):
    code = 109


class BatchTooLarge(MeteringError):
    code = 110


class InvalidTariff(MeteringError):
    code = 111


class TariffNotInFuture(MeteringError):
    code = 112


class InvalidPeriod(MeteringError):
    code = 113


class NoTariff(MeteringError):
    code = 114


class BillExists(MeteringError):
    code = 115


class RecordNotFound(QueryError):
    codespace = "metering"
    code = 150


# Why a single reading of a batch was refused (event attribute ``reason``).
REJECT_REASONS: tuple[str, ...] = (
    "malformed", "unknown_meter", "meter_not_active", "bad_signature", "replayed_sequence",
    "time_not_monotonic", "future_timestamp", "register_backwards", "implausible_rate",
)
