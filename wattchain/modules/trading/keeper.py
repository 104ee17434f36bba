"""State reads and writes of the trading module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from msgpack import packb, unpackb

from wattchain import codec
from wattchain.modules.trading import keys
from wattchain.modules.trading.types import (
    OPEN,
    RESTRICTION_OPEN,
    Order,
    Params,
    Trade,
)
from wattchain.vm.params import ParamsKeeper
from wattchain.vm.state import Overlay, StateReader


def _int(state: StateReader, key: bytes, default: int = 0) -> int:
    raw = state.get(key)
    return default if raw is None else int(unpackb(raw))


class TradingKeeper(ParamsKeeper[Params]):
    def __init__(self) -> None:
        super().__init__(keys.PARAMS_KEY, Params)

    # -- fees, bands, modes ----------------------------------------------------------------

    def grid_fee(self, state: StateReader, zone: str) -> int:
        return _int(state, keys.fee_key(zone))

    def set_grid_fee(self, state: Overlay, zone: str, fee: int) -> None:
        state.set(keys.fee_key(zone), packb(fee))

    def price_band(self, state: StateReader, zone: str) -> tuple[int, int] | None:
        raw = state.get(keys.band_key(zone))
        if raw is None:
            return None
        floor, ceiling = codec.decode(raw)
        return int(floor), int(ceiling)

    def set_price_band(self, state: Overlay, zone: str, floor: int, ceiling: int) -> None:
        state.set(keys.band_key(zone), codec.encode([floor, ceiling]))

    def mode(self, state: StateReader, zone: str) -> int:
        return _int(state, keys.mode_key(zone))

    def set_mode(self, state: Overlay, zone: str, mode: int) -> None:
        state.set(keys.mode_key(zone), packb(mode))

    # -- orders ---------------------------------------------------------------------------

    def next_id(self, state: Overlay, key: bytes) -> int:
        value = _int(state, key, 1)
        state.set(key, packb(value + 1))
        return value

    def get_order(self, state: StateReader, order_id: int) -> Order | None:
        raw = state.get(keys.order_key(order_id))
        return None if raw is None else Order.from_list(codec.decode(raw))

    def save_order(self, state: Overlay, order: Order) -> None:
        """Store ``order``; keep it in its book and gate indexes while it is open."""
        state.set(keys.order_key(order.order_id), codec.encode(order.to_list()))
        book = keys.book_key(order.zone, order.interval_start, order.side, order.order_id)
        if order.status == OPEN:
            state.set(book, b"")
            state.set(keys.account_order_key(order.owner, order.order_id), b"")
        else:
            state.delete(book)

    def book_orders(self, state: StateReader, zone: str, interval_start: int,
                    side: int) -> list[Order]:
        prefix = keys.BOOK_PREFIX + keys.book_id(zone, interval_start) + bytes([side])
        found = []
        for key, _ in state.iterate(prefix):
            order = self.get_order(state, int.from_bytes(key[-8:], "big"))
            if order is not None:
                found.append(order)
        return found

    def orders_of(self, state: StateReader, account: bytes) -> Iterator[Order]:
        for key, _ in state.iterate(keys.ACCOUNT_PREFIX + account):
            order = self.get_order(state, int.from_bytes(key[-8:], "big"))
            if order is not None:
                yield order

    def open_orders_of(self, state: StateReader, account: bytes) -> int:
        return sum(1 for order in self.orders_of(state, account) if order.status == OPEN)

    # -- capacity sold per asset and interval -------------------------------------------

    def sold(self, state: StateReader, asset_id: int, interval_start: int) -> int:
        return _int(state, keys.sold_key(asset_id, interval_start))

    def add_sold(self, state: Overlay, asset_id: int, interval_start: int, delta: int) -> None:
        total = self.sold(state, asset_id, interval_start) + delta
        key = keys.sold_key(asset_id, interval_start)
        if total:
            state.set(key, packb(total))
        else:
            state.delete(key)

    # -- gate closure ----------------------------------------------------------------------

    def schedule_book(self, state: Overlay, closure_ms: int, zone: str,
                      interval_start: int) -> None:
        state.set(keys.gate_key(closure_ms, zone, interval_start), b"")

    def due_books(self, state: StateReader, now_ms: int) -> list[tuple[bytes, str, int]]:
        """(gate key, zone, interval start) of every book whose gate has closed."""
        due = []
        start = len(keys.GATE_PREFIX)
        for key, _ in state.iterate(keys.GATE_PREFIX):
            if int.from_bytes(key[start:start + 8], "big") > now_ms:
                break
            zone, _, interval = key[start + 8:].partition(b"\0")
            due.append((key, zone.decode(), int.from_bytes(interval, "big")))
        return due

    # -- clearings and trades -------------------------------------------------------------

    def save_clearing(self, state: Overlay, zone: str, interval_start: int,
                      record: list[Any]) -> None:
        state.set(keys.clearing_key(zone, interval_start), codec.encode(record))

    def get_clearing(self, state: StateReader, zone: str, interval_start: int) -> list[Any] | None:
        raw = state.get(keys.clearing_key(zone, interval_start))
        return None if raw is None else list(codec.decode(raw))

    def iterate_clearings(self, state: StateReader, zone: str) -> Iterator[list[Any]]:
        for _, raw in state.iterate(keys.CLEARING_PREFIX + zone.encode() + b"\0"):
            yield list(codec.decode(raw))

    def save_trade(self, state: Overlay, trade: Trade) -> None:
        """Store ``trade``; it stays in the settlement queue until settled."""
        state.set(keys.trade_key(trade.trade_id), codec.encode(trade.to_list()))
        pending = keys.pending_key(trade.interval_start, trade.trade_id)
        if trade.settled:
            state.delete(pending)
        else:
            state.set(pending, b"")

    def get_trade(self, state: StateReader, trade_id: int) -> Trade | None:
        raw = state.get(keys.trade_key(trade_id))
        return None if raw is None else Trade.from_list(codec.decode(raw))

    def pending_trades(self, state: StateReader, before_interval: int) -> list[Trade]:
        """Unsettled trades of intervals starting before ``before_interval``."""
        found = []
        start = len(keys.PENDING_PREFIX)
        for key, _ in state.iterate(keys.PENDING_PREFIX):
            if int.from_bytes(key[start:start + 8], "big") >= before_interval:
                break
            trade = self.get_trade(state, int.from_bytes(key[start + 8:], "big"))
            if trade is not None:
                found.append(trade)
        return found

    def scheduled_wh(self, state: StateReader, zone: str, interval_start: int) -> int:
        """Energy of the trades cleared for (zone, interval): balancing's schedule."""
        return sum(trade.energy_wh for trade in self.iterate_trades(state)
                   if trade.zone == zone and trade.interval_start == interval_start)

    def imbalance_price(self, state: StateReader, zone: str) -> int:
        return _int(state, keys.imbalance_key(zone))

    def set_imbalance_price(self, state: Overlay, zone: str, price: int) -> None:
        state.set(keys.imbalance_key(zone), packb(price))

    def imbalance_price_at(self, state: StateReader, zone: str, interval_start: int) -> int:
        """The price balancing set for the interval, else the zone's current price."""
        raw = state.get(keys.interval_imbalance_key(zone, interval_start))
        return self.imbalance_price(state, zone) if raw is None else int(unpackb(raw))

    def set_interval_imbalance_price(self, state: Overlay, zone: str, interval_start: int,
                                     price: int) -> None:
        state.set(keys.interval_imbalance_key(zone, interval_start), packb(price))

    def delete_interval_imbalance_price(self, state: Overlay, zone: str,
                                        interval_start: int) -> None:
        state.delete(keys.interval_imbalance_key(zone, interval_start))

    # -- emergencies ----------------------------------------------------------------------

    def restriction(self, state: StateReader, zone: str) -> tuple[int, int]:
        """(mode, price cap) of a zone's market: 0 open, 1 capped, 2 suspended."""
        raw = state.get(keys.restriction_key(zone))
        if raw is None:
            return RESTRICTION_OPEN, 0
        mode, cap = codec.decode(raw)
        return int(mode), int(cap)

    def set_restriction(self, state: Overlay, zone: str, mode: int, cap: int) -> None:
        if mode == RESTRICTION_OPEN:
            state.delete(keys.restriction_key(zone))
        else:
            state.set(keys.restriction_key(zone), codec.encode([mode, cap]))

    # -- interconnections ----------------------------------------------------------------

    def set_link(self, state: Overlay, source: str, target: str, capacity_w: int,
                 fee: int) -> None:
        state.set(keys.link_key(source, target), codec.encode([capacity_w, fee]))

    def links(self, state: StateReader) -> list[tuple[tuple[str, str], tuple[int, int]]]:
        found = []
        for key, raw in state.iterate(keys.LINK_PREFIX):
            source, _, target = key[len(keys.LINK_PREFIX):].partition(b"\0")
            capacity_w, fee = codec.decode(raw)
            found.append(((source.decode(), target.decode()), (int(capacity_w), int(fee))))
        return found

    def save_cross_clearing(self, state: Overlay, source: str, target: str,
                            interval_start: int, record: list[Any]) -> None:
        state.set(keys.cross_key(source, target, interval_start), codec.encode(record))

    # -- certificates -------------------------------------------------------------------

    def get_certificate(self, state: StateReader, cert_id: int) -> list[Any] | None:
        raw = state.get(keys.cert_key(cert_id))
        return None if raw is None else list(codec.decode(raw))

    def save_certificate(self, state: Overlay, record: list[Any],
                         previous_owner: bytes | None = None) -> None:
        """record: [cert_id, asset_id, interval_start, wh, owner, retired (0/1),
        beneficiary, trade_id]."""
        cert_id, owner = record[0], record[4]
        if previous_owner is not None and previous_owner != owner:
            state.delete(keys.owner_cert_key(previous_owner, cert_id))
        state.set(keys.cert_key(cert_id), codec.encode(record))
        state.set(keys.owner_cert_key(owner, cert_id), b"")

    def certificates_of(self, state: StateReader, owner: bytes) -> list[list[Any]]:
        found = []
        for key, _ in state.iterate(keys.OWNER_CERT_PREFIX + owner):
            record = self.get_certificate(state, int.from_bytes(key[-8:], "big"))
            if record is not None:
                found.append(record)
        return found

    def iterate_trades(self, state: StateReader) -> Iterator[Trade]:
        for _, raw in state.iterate(keys.TRADE_PREFIX):
            yield Trade.from_list(codec.decode(raw))

    def iterate_orders(self, state: StateReader) -> Iterator[Order]:
        for _, raw in state.iterate(keys.ORDER_PREFIX):
            yield Order.from_list(codec.decode(raw))
