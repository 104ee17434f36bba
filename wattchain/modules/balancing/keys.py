"""State key layout of the balancing module (prefix ``bal/``).

Zone ids never contain NUL, and interval starts are 8-byte big-endian, so a
zone's records iterate in time order.
"""

from __future__ import annotations

PREFIX = b"bal/"
PARAMS_KEY = b"bal/params"
NEXT_KEY = b"bal/next"  # start of the next interval to process
RECORD_PREFIX = b"bal/r/"
MODEL_PREFIX = b"bal/m/"
BOUNDS_PREFIX = b"bal/b/"


def zone_prefix(zone: str) -> bytes:
    return RECORD_PREFIX + zone.encode() + b"\0"


def record_key(zone: str, interval_start: int) -> bytes:
    return zone_prefix(zone) + interval_start.to_bytes(8, "big")


def split_record_key(key: bytes) -> tuple[str, int]:
    zone, _, start = key[len(RECORD_PREFIX):].partition(b"\0")
    return zone.decode(), int.from_bytes(start, "big")


def model_key(zone: str) -> bytes:
    return MODEL_PREFIX + zone.encode()


def bounds_key(zone: str) -> bytes:
    return BOUNDS_PREFIX + zone.encode()
