"""Argument checks shared by the handlers and genesis import.

Each check returns the canonical value or raises a typed error; none reads
or writes state. Checks every module shares (ids, integers, text) are in
``vm.fields``.
"""

from __future__ import annotations

import re
from typing import Any

from wattchain.modules.registration.errors import (
    InvalidCapacity,
    InvalidLocation,
    MetadataTooLarge,
    UnknownAssetType,
    UnknownProducerKind,
    UnknownScheme,
)
from wattchain.modules.registration.types import (
    ASSET_TYPES,
    PRODUCER_KINDS,
    SCHEMES,
    Equipment,
    RegistrationParams,
)
from wattchain.vm.errors import InvalidArgs, TxError
from wattchain.vm.fields import MAX_INT, arg_int, arg_text

MAX_NAME_LEN = 64
MAX_URI_LEN = 256
MAX_REASON_LEN = 256
MAX_COORDINATE = {"latitude": 90_000_000, "longitude": 180_000_000}
MAX_TIME_MS = MAX_INT
HASH_LEN = 32
URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+")


def check_asset_id(value: Any) -> int:
    if type(value) is not int or value <= 0:
        raise InvalidArgs("asset id must be a positive integer")
    return value


def check_choice(value: Any, choices: tuple[str, ...], error: type[TxError],
                 what: str, plural: str) -> str:
    if type(value) is not str or value not in choices:
        raise error(f"unknown {what} {value!r}; {plural} are {', '.join(choices)}")
    return value


def check_asset_type(value: Any) -> str:
    return check_choice(value, ASSET_TYPES, UnknownAssetType, "asset type", "types")


def check_producer_kind(value: Any) -> str:
    return check_choice(value, PRODUCER_KINDS, UnknownProducerKind, "producer kind", "kinds")


def check_scheme(value: Any) -> str:
    return check_choice(value, SCHEMES, UnknownScheme, "certification scheme", "schemes")


def check_contact_uri(value: Any) -> str:
    if type(value) is not str or len(value) > MAX_URI_LEN or not URI.fullmatch(value):
        raise InvalidArgs(f"contact must be an ASCII URI of at most {MAX_URI_LEN} characters, "
                          "e.g. mailto:ops@example.org or https://example.org")
    return value


def check_metadata(value: Any, params: RegistrationParams) -> str:
    if type(value) is not str:
        raise InvalidArgs("metadata must be text (e.g. JSON); use \"\" for none")
    size = len(value.encode())
    if size > params.max_metadata_bytes:
        raise MetadataTooLarge(f"metadata is {size} bytes, the limit is "
                               f"{params.max_metadata_bytes}")
    return value


def check_capacity(asset_type: str, capacity_w: Any, energy_wh: Any,
                   params: RegistrationParams) -> tuple[int, int]:
    """Nameplate W in 1..max; Wh in 1..max for storage and exactly 0 otherwise."""
    if type(capacity_w) is not int or not 0 < capacity_w <= params.max_asset_capacity_w:
        raise InvalidCapacity(f"capacity must be 1..{params.max_asset_capacity_w} W, "
                              f"got {capacity_w!r}")
    if asset_type == "storage":
        if type(energy_wh) is not int or not 0 < energy_wh <= params.max_energy_capacity_wh:
            raise InvalidCapacity(f"storage energy capacity must be "
                                  f"1..{params.max_energy_capacity_wh} Wh, got {energy_wh!r}")
    elif type(energy_wh) is not int or energy_wh != 0:
        raise InvalidCapacity(f"energy capacity (Wh) is for storage only; a {asset_type} "
                              "asset takes 0")
    return capacity_w, energy_wh


def check_location(latitude: Any, longitude: Any) -> tuple[int, int]:
    for name, value in (("latitude", latitude), ("longitude", longitude)):
        bound = MAX_COORDINATE[name]
        if type(value) is not int or not -bound <= value <= bound:
            raise InvalidLocation(f"{name} must be an integer in micro-degrees within "
                                  f"±{bound}")
    return latitude, longitude


def check_evidence_hash(value: Any) -> bytes:
    if type(value) is not bytes or len(value) != HASH_LEN:
        raise InvalidArgs("evidence hash must be 32 bytes (sha256 of the inspection evidence)")
    return value


def check_equipment(manufacturer: Any, model: Any, serial: Any, inverter_model: Any,
                    unit_count: Any) -> Equipment:
    return Equipment(arg_text(manufacturer, "manufacturer"), arg_text(model, "model"),
                     arg_text(serial, "serial"),
                     arg_text(inverter_model, "inverter model", allow_empty=True),
                     arg_int(unit_count, "unit count", 1, 1_000_000))
