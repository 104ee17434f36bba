"""State key layout of the metering module (prefix ``met/``).

Meter ids and zone ids never contain ``/`` (registration's ``check_meter_id``
and ``check_zone_id``), so ``<prefix><id>/`` scans exactly one of them.
Sequence numbers and times are 8-byte big-endian so keys sort by them.
"""

from __future__ import annotations

import struct

PREFIX = b"met/"
PARAMS_KEY = b"met/params"
CLOSED_KEY = b"met/closed"  # start ms of the interval after the last closed one
METER_PREFIX = b"met/m/"
KEY_INDEX_PREFIX = b"met/k/"  # meter public key -> meter id (a key signs for one meter)
READING_PREFIX = b"met/r/"
METER_INTERVAL_PREFIX = b"met/mi/"
ACCOUNT_INTERVAL_PREFIX = b"met/ai/"
ZONE_INTERVAL_PREFIX = b"met/zi/"
TARIFF_PREFIX = b"met/t/"
BILL_PREFIX = b"met/b/"
# Derived from meter interval records; rebuilt on genesis import.
DERIVED_PREFIXES = (ACCOUNT_INTERVAL_PREFIX, ZONE_INTERVAL_PREFIX, KEY_INDEX_PREFIX)


def be64(value: int) -> bytes:
    return struct.pack(">Q", value)


def read_be64(raw: bytes) -> int:
    value: int = struct.unpack(">Q", raw)[0]
    return value


def meter_key(meter_id: str) -> bytes:
    return METER_PREFIX + meter_id.encode()


def key_index_key(public_key: bytes) -> bytes:
    return KEY_INDEX_PREFIX + public_key


def readings_prefix(meter_id: str) -> bytes:
    return READING_PREFIX + meter_id.encode() + b"/"


def reading_key(meter_id: str, seq: int) -> bytes:
    return readings_prefix(meter_id) + be64(seq)


def meter_intervals_prefix(meter_id: str) -> bytes:
    return METER_INTERVAL_PREFIX + meter_id.encode() + b"/"


def meter_interval_key(meter_id: str, start_ms: int) -> bytes:
    return meter_intervals_prefix(meter_id) + be64(start_ms)


def account_intervals_prefix(account: bytes) -> bytes:
    return ACCOUNT_INTERVAL_PREFIX + account


def account_interval_key(account: bytes, start_ms: int) -> bytes:
    return account_intervals_prefix(account) + be64(start_ms)


def zone_intervals_prefix(zone_id: str) -> bytes:
    return ZONE_INTERVAL_PREFIX + zone_id.encode() + b"/"


def zone_interval_key(zone_id: str, start_ms: int) -> bytes:
    return zone_intervals_prefix(zone_id) + be64(start_ms)


def tariffs_prefix(zone_id: str) -> bytes:
    return TARIFF_PREFIX + zone_id.encode() + b"/"


def tariff_key(zone_id: str, effective_from_ms: int) -> bytes:
    return tariffs_prefix(zone_id) + be64(effective_from_ms)


def bills_prefix(account: bytes) -> bytes:
    return BILL_PREFIX + account


def bill_key(account: bytes, start_ms: int, end_ms: int) -> bytes:
    return bills_prefix(account) + be64(start_ms) + be64(end_ms)
