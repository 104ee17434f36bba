"""State key layout of the oracle module (prefix ``orc/``).

Feed names and zone ids never contain ``/`` (zone ids follow ZONE_ID), and
rounds are fixed-width big-endian, so a (feed, zone) prefix iterates its
rounds in order.
"""

from __future__ import annotations

PREFIX = b"orc/"
PARAMS_KEY = b"orc/params"
ROUND_PREFIX = b"orc/r/"
LATEST_PREFIX = b"orc/l/"
ROUND_BYTES = 8


def feed_zone(feed: str, zone: str) -> bytes:
    return feed.encode() + b"/" + zone.encode() + b"/"


def round_key(feed: str, zone: str, round_index: int) -> bytes:
    return ROUND_PREFIX + feed_zone(feed, zone) + round_index.to_bytes(ROUND_BYTES, "big")


def latest_key(feed: str, zone: str) -> bytes:
    return LATEST_PREFIX + feed_zone(feed, zone)


def split_round_key(key: bytes) -> tuple[str, str, int]:
    feed, zone, rest = key[len(ROUND_PREFIX):].split(b"/", 2)
    return feed.decode(), zone.decode(), int.from_bytes(rest, "big")


def split_latest_key(key: bytes) -> tuple[str, str]:
    feed, zone, _ = key[len(LATEST_PREFIX):].split(b"/", 2)
    return feed.decode(), zone.decode()
