"""State key layout of the trading module (prefix ``trd/``)."""

from __future__ import annotations

import struct

PREFIX = b"trd/"
PARAMS_KEY = b"trd/params"
NEXT_ORDER_KEY = b"trd/next_order"
NEXT_TRADE_KEY = b"trd/next_trade"
ORDER_PREFIX = b"trd/o/"
BOOK_PREFIX = b"trd/b/"
GATE_PREFIX = b"trd/g/"
CLEARING_PREFIX = b"trd/c/"
TRADE_PREFIX = b"trd/t/"
ACCOUNT_PREFIX = b"trd/a/"
FEE_PREFIX = b"trd/fee/"
BAND_PREFIX = b"trd/band/"
SOLD_PREFIX = b"trd/sold/"
MODE_PREFIX = b"trd/mode/"
PENDING_PREFIX = b"trd/pending/"  # unsettled trades by interval start
IMBALANCE_PREFIX = b"trd/imb/"
INTERVAL_IMBALANCE_PREFIX = b"trd/imbi/"  # balancing's price per (zone, interval)
RESTRICTION_PREFIX = b"trd/restrict/"  # a zone's market in an emergency
CERT_PREFIX = b"trd/cert/"
NEXT_CERT_KEY = b"trd/next_cert"
OWNER_CERT_PREFIX = b"trd/oc/"
LINK_PREFIX = b"trd/link/"
CROSS_PREFIX = b"trd/xc/"

_U64 = struct.Struct(">Q")


def u64(value: int) -> bytes:
    return _U64.pack(value)


def book_id(zone: str, interval_start: int) -> bytes:
    return zone.encode() + b"\0" + u64(interval_start)


def order_key(order_id: int) -> bytes:
    return ORDER_PREFIX + u64(order_id)


def book_key(zone: str, interval_start: int, side: int, order_id: int) -> bytes:
    return BOOK_PREFIX + book_id(zone, interval_start) + bytes([side]) + u64(order_id)


def gate_key(closure_ms: int, zone: str, interval_start: int) -> bytes:
    return GATE_PREFIX + u64(closure_ms) + book_id(zone, interval_start)


def clearing_key(zone: str, interval_start: int) -> bytes:
    return CLEARING_PREFIX + book_id(zone, interval_start)


def trade_key(trade_id: int) -> bytes:
    return TRADE_PREFIX + u64(trade_id)


def account_order_key(account: bytes, order_id: int) -> bytes:
    return ACCOUNT_PREFIX + account + u64(order_id)


def fee_key(zone: str) -> bytes:
    return FEE_PREFIX + zone.encode()


def band_key(zone: str) -> bytes:
    return BAND_PREFIX + zone.encode()


def link_key(source: str, target: str) -> bytes:
    return LINK_PREFIX + source.encode() + b"\0" + target.encode()


def cross_key(source: str, target: str, interval_start: int) -> bytes:
    return CROSS_PREFIX + source.encode() + b"\0" + target.encode() + b"\0" + u64(
        interval_start)


def pending_key(interval_start: int, trade_id: int) -> bytes:
    return PENDING_PREFIX + u64(interval_start) + u64(trade_id)


def imbalance_key(zone: str) -> bytes:
    return IMBALANCE_PREFIX + zone.encode()


def interval_imbalance_key(zone: str, interval_start: int) -> bytes:
    return INTERVAL_IMBALANCE_PREFIX + book_id(zone, interval_start)


def restriction_key(zone: str) -> bytes:
    return RESTRICTION_PREFIX + zone.encode()


def cert_key(cert_id: int) -> bytes:
    return CERT_PREFIX + u64(cert_id)


def owner_cert_key(owner: bytes, cert_id: int) -> bytes:
    return OWNER_CERT_PREFIX + owner + u64(cert_id)


def mode_key(zone: str) -> bytes:
    return MODE_PREFIX + zone.encode()


def sold_key(asset_id: int, interval_start: int) -> bytes:
    return SOLD_PREFIX + u64(asset_id) + u64(interval_start)
