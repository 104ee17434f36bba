"""Errors of the metering module (codespace "metering").

Codes are public and never change meaning; append new ones. A rejected
*reading* is not an error: it is reported as a ``reading_rejected`` event with
one of ``REJECT_REASONS`` and the rest of its batch goes on.
"""

from __future__ import annotations

from wattchain.vm import errors


class MeteringError(errors.TxError, codespace="metering", code=100):
    """Base of the metering module's errors."""


class MissingRole(errors.MissingRole, MeteringError):
    """The sender lacks the role the method needs."""


class UnknownMeterType(MeteringError, code=102):
    """The meter type is not one of ``types.METER_TYPES``."""


class MeterExists(MeteringError, code=103):
    """A meter with that id is already registered."""


class UnknownMeter(MeteringError, code=104):
    """No meter with that id."""


class NotMeterOperator(MeteringError, errors.AuthorizationError, code=105):
    """Only the operator that registered a meter (or an admin) manages it."""


class InvalidTransition(MeteringError, code=106):
    """The meter's status does not allow this step."""


class InvalidPublicKey(MeteringError, code=107):
    """Not a 33-byte compressed secp256k1 public key."""


class AssetMismatch(MeteringError, code=108):
    """The asset is unknown, owned by another account, or in another zone."""


class KeyInUse(MeteringError, code=109):
    """The key already signs for another meter."""


class BatchTooLarge(MeteringError, code=110):
    """More readings in one batch than ``max_readings_per_tx``."""


class InvalidTariff(MeteringError, code=111):
    """A tariff argument outside its shape or range (``tariffs``)."""


class TariffNotInFuture(MeteringError, code=112):
    """A tariff must take effect after the block's time."""


class InvalidPeriod(MeteringError, code=113):
    """A bill period that is not whole, ended intervals of at most 366 days."""


class NoTariff(MeteringError, code=114):
    """The account has no grid meter, or its zone no tariff in force."""


class BillExists(MeteringError, code=115):
    """This period of the account is already billed."""


class NotZoneOperator(MeteringError, errors.AuthorizationError, code=116):
    """Only the DSO operating the zone sets its tariffs or bills its accounts."""


class UnknownZone(MeteringError, code=117):
    """No zone with that id is registered."""


class RecordNotFound(errors.RecordNotFound, codespace="metering"):
    """A query for a meter, tariff or bill that does not exist."""


# Why a single reading of a batch was refused (event attribute ``reason``).
REJECT_REASONS: tuple[str, ...] = (
    "malformed", "unknown_meter", "meter_not_active", "bad_signature", "replayed_sequence",
    "time_not_monotonic", "future_timestamp", "register_backwards", "implausible_rate",
)
