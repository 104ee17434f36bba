"""Orders, trades, params and the published rounding rules of trading."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wattchain.hashing import sha256
from wattchain.vm.records import Record

BUY = 0
SELL = 1
SIDES = {"buy": BUY, "sell": SELL}

OPEN = 0
FILLED = 1
CANCELLED = 2
EXPIRED = 3
CLOSED = 4  # the book cleared and the order was not (fully) matched
STATUS_NAMES = {OPEN: "open", FILLED: "filled", CANCELLED: "cancelled", EXPIRED: "expired",
                CLOSED: "closed"}

AUCTION = 0  # a uniform-price auction per book at gate closure (the default)
CONTINUOUS = 1  # an incoming order matches resting ones at once, price-time priority
MODES = {"auction": AUCTION, "continuous": CONTINUOUS}

# The module account that holds buyers' escrow; its balance is part of the supply.
ESCROW_ACCOUNT = sha256(b"wattchain/module/trading/escrow")[:20]
WH_PER_KWH = 1_000
MS_PER_HOUR = 3_600_000


@dataclass(slots=True)
class Order:
    order_id: int
    owner: bytes
    side: int
    zone: str
    interval_start: int  # ms of block time
    energy_wh: int
    remaining_wh: int
    price: int  # micro-units per kWh
    expiry_ms: int  # 0: good until gate closure
    renewable_only: bool
    counterparty: bytes  # b"": anyone
    asset_id: int  # sells: the asset that delivers; buys: 0
    escrow: int  # buys: micro-units still locked for this order
    status: int
    placed_ms: int
    grid_fee: int = 0  # buys: the zone's fee per kWh when placed, the rate it pays

    def to_list(self) -> list[Any]:
        return [self.order_id, self.owner, self.side, self.zone, self.interval_start,
                self.energy_wh, self.remaining_wh, self.price, self.expiry_ms,
                int(self.renewable_only), self.counterparty, self.asset_id, self.escrow,
                self.status, self.placed_ms, self.grid_fee]

    @classmethod
    def from_list(cls, value: list[Any]) -> Order:
        (order_id, owner, side, zone, interval_start, energy, remaining, price, expiry,
         renewable, counterparty, asset_id, escrow, status, placed, grid_fee) = value
        return cls(order_id, owner, side, zone, interval_start, energy, remaining, price,
                   expiry, bool(renewable), counterparty, asset_id, escrow, status, placed,
                   grid_fee)


@dataclass(slots=True)
class Trade:
    trade_id: int
    zone: str
    interval_start: int
    bid_id: int
    offer_id: int
    buyer: bytes
    seller: bytes
    asset_id: int
    energy_wh: int
    price: int
    cost: int  # micro-units the buyer owes for the energy
    grid_fee: int  # micro-units the buyer owes the zone's DSO
    settled: bool = False
    delivered_wh: int = 0
    paid: int = 0  # to the seller, for delivered energy
    fee_paid: int = 0  # to the zone's DSO
    penalty: int = 0  # from the seller to the buyer, for the shortfall

    def to_list(self) -> list[Any]:
        return [self.trade_id, self.zone, self.interval_start, self.bid_id, self.offer_id,
                self.buyer, self.seller, self.asset_id, self.energy_wh, self.price, self.cost,
                self.grid_fee, int(self.settled), self.delivered_wh, self.paid, self.fee_paid,
                self.penalty]

    @property
    def obligation(self) -> int:
        """What still waits in escrow for this trade."""
        return 0 if self.settled else self.cost + self.grid_fee

    @classmethod
    def from_list(cls, value: list[Any]) -> Trade:
        trade = cls(*value)
        trade.settled = bool(trade.settled)
        return trade


# A zone's market during an emergency (set by balancing): open, capped (no order
# priced above the cap) or suspended (no new orders; due books close unfilled).
RESTRICTION_OPEN = 0
RESTRICTION_CAPPED = 1
RESTRICTION_SUSPENDED = 2


@dataclass(slots=True)
class Params(Record):
    gate_closure_ms: int = 60_000  # books close this long before their interval starts
    max_order_wh: int = 100_000_000
    max_open_orders: int = 1_000  # per account
    settlement_delay_ms: int = 120_000  # after an interval ends, for late meter readings


def cost_of(energy_wh: int, price_per_kwh: int) -> int:
    """The most ``energy_wh`` can cost at ``price_per_kwh``: rounded up (escrow)."""
    return -(-energy_wh * price_per_kwh // WH_PER_KWH)


def payment_for(energy_wh: int, price_per_kwh: int) -> int:
    """What a trade of ``energy_wh`` at ``price_per_kwh`` pays: rounded down to the
    micro-unit (published rule), so a bid's trades never exceed its escrow."""
    return energy_wh * price_per_kwh // WH_PER_KWH
