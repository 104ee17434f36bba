"""Argument checks shared by the handlers and genesis import.

Each check returns the canonical value or raises a typed error; none reads
or writes state.
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
from wattchain.vm.errors import InvalidArgs

MAX_NAME_LEN = 64
MAX_URI_LEN = 256
MAX_REASON_LEN = 256
MAX_COORDINATE = {"latitude": 90_000_000, "longitude": 180_000_000}
MAX_TIME_MS = (1 << 63) - 1
HASH_LEN = 32
# ASCII only, so every node (whatever its Python's Unicode tables) agrees.
ZONE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,31}")
METER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+")


def check_int(value: Any, name: str, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise InvalidArgs(f"{name} must be an integer in {low}..{high}")
    return value


def check_text(value: Any, name: str, max_len: int = MAX_NAME_LEN, *,
               allow_empty: bool = False) -> str:
    low = 0 if allow_empty else 1
    if type(value) is not str or not low <= len(value) <= max_len:
        raise InvalidArgs(f"{name} must be text of {low}..{max_len} characters")
    return value


def check_asset_id(value: Any) -> int:
    if type(value) is not int or value <= 0:
        raise InvalidArgs("asset id must be a positive integer")
    return value


def check_zone_id(value: Any) -> str:
    if type(value) is not str or not ZONE_ID.fullmatch(value):
        raise InvalidArgs("zone id must be 1-32 ASCII letters, digits or . _ : - "
                          "(starting with a letter or digit)")
    return value


def check_meter_id(value: Any) -> str:
    """A meter id, or "" for no meter."""
    if value == "":
        return ""
    if type(value) is not str or not METER_ID.fullmatch(value):
        raise InvalidArgs("meter id must be empty or 1-64 ASCII letters, digits or . _ : -")
    return value


def check_asset_type(value: Any) -> str:
    if type(value) is not str or value not in ASSET_TYPES:
        raise UnknownAssetType(f"unknown asset type {value!r}; types are "
                               f"{', '.join(ASSET_TYPES)}")
    return value


def check_producer_kind(value: Any) -> str:
    if type(value) is not str or value not in PRODUCER_KINDS:
        raise UnknownProducerKind(f"unknown producer kind {value!r}; kinds are "
                                  f"{', '.join(PRODUCER_KINDS)}")
    return value


def check_scheme(value: Any) -> str:
    if type(value) is not str or value not in SCHEMES:
        raise UnknownScheme(f"unknown certification scheme {value!r}; schemes are "
                            f"{', '.join(SCHEMES)}")
    return value


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
    return Equipment(check_text(manufacturer, "manufacturer"), check_text(model, "model"),
                     check_text(serial, "serial"),
                     check_text(inverter_model, "inverter model", allow_empty=True),
                     check_int(unit_count, "unit count", 1, 1_000_000))
