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
NEXT_DISPATCH_KEY = b"bal/nd"  # start of the next interval to dispatch
FLEX_PREFIX = b"bal/f/"  # asset id -> FlexAsset
FLEX_ZONE_PREFIX = b"bal/fz/"  # zone NUL asset id -> b"" (index)
DISPATCH_PREFIX = b"bal/d/"  # zone NUL interval start -> DispatchRecord
EMERGENCY_PREFIX = b"bal/e/"  # zone -> Emergency in force
LOG_PREFIX = b"bal/el/"  # zone NUL seq -> LogEntry
RESILIENCE_PREFIX = b"bal/res/"  # zone -> resilience figures of the newest interval


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


def u64(value: int) -> bytes:
    return value.to_bytes(8, "big")


def flex_key(asset_id: int) -> bytes:
    return FLEX_PREFIX + u64(asset_id)


def flex_zone_prefix(zone: str) -> bytes:
    return FLEX_ZONE_PREFIX + zone.encode() + b"\0"


def flex_zone_key(zone: str, asset_id: int) -> bytes:
    return flex_zone_prefix(zone) + u64(asset_id)


def dispatch_zone_prefix(zone: str) -> bytes:
    return DISPATCH_PREFIX + zone.encode() + b"\0"


def dispatch_key(zone: str, interval_start: int) -> bytes:
    return dispatch_zone_prefix(zone) + u64(interval_start)


def emergency_key(zone: str) -> bytes:
    return EMERGENCY_PREFIX + zone.encode()


def log_prefix(zone: str) -> bytes:
    return LOG_PREFIX + zone.encode() + b"\0"


def log_key(zone: str, seq: int) -> bytes:
    return log_prefix(zone) + u64(seq)


def resilience_key(zone: str) -> bytes:
    return RESILIENCE_PREFIX + zone.encode()
