"""Read-only queries of the trading module (abci_query paths ``trading/...``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from wattchain.crypto import format_address
from wattchain.modules.trading.errors import RecordNotFound
from wattchain.modules.trading.keeper import TradingKeeper
from wattchain.modules.trading.types import BUY, SELL, STATUS_NAMES, Order, Trade
from wattchain.vm.fields import query_address, query_int, query_text
from wattchain.vm.state import StateReader

MAX_RESULTS = 1_000


def order_json(order: Order) -> dict[str, Any]:
    return {"order_id": order.order_id, "owner": format_address(order.owner),
            "side": "buy" if order.side == BUY else "sell", "zone": order.zone,
            "interval_start": order.interval_start, "energy_wh": order.energy_wh,
            "remaining_wh": order.remaining_wh, "price": order.price,
            "expiry_ms": order.expiry_ms, "renewable_only": order.renewable_only,
            "counterparty": format_address(order.counterparty) if order.counterparty else None,
            "asset_id": order.asset_id or None, "escrow": order.escrow,
            "grid_fee": order.grid_fee, "status": STATUS_NAMES[order.status]}


def trade_json(trade: Trade) -> dict[str, Any]:
    return {"trade_id": trade.trade_id, "zone": trade.zone,
            "interval_start": trade.interval_start, "bid_id": trade.bid_id,
            "offer_id": trade.offer_id, "buyer": format_address(trade.buyer),
            "seller": format_address(trade.seller), "asset_id": trade.asset_id,
            "energy_wh": trade.energy_wh, "price": trade.price, "cost": trade.cost,
            "grid_fee": trade.grid_fee, "settled": trade.settled,
            "delivered_wh": trade.delivered_wh, "paid": trade.paid,
            "fee_paid": trade.fee_paid, "penalty": trade.penalty}


def clearing_json(record: list[Any]) -> dict[str, Any]:
    zone, interval, price, renewable_price, volume, trades, height, time_ms = record
    return {"zone": zone, "interval_start": interval, "price": None if price < 0 else price,
            "renewable_price": None if renewable_price < 0 else renewable_price,
            "volume_wh": volume, "trades": trades, "height": height, "time_ms": time_ms}


def _text(data: Mapping[str, Any], name: str) -> str:
    return query_text(data, name, message=f"data.{name} must be a non-empty string")


def _address(data: Mapping[str, Any], name: str) -> bytes:
    return query_address(data, name, message=f"data.{name} must be a non-empty string")


class TradingQueries:
    def __init__(self, keeper: TradingKeeper) -> None:
        self.keeper = keeper

    def params(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        return asdict(self.keeper.params(state))

    def order(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        order = self.keeper.get_order(state, query_int(data, "order_id"))
        if order is None:
            raise RecordNotFound(f"no order {data['order_id']}")
        return order_json(order)

    def book(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        zone, interval = _text(data, "zone"), query_int(data, "interval_start")
        bids = self.keeper.book_orders(state, zone, interval, BUY)
        offers = self.keeper.book_orders(state, zone, interval, SELL)
        return {"zone": zone, "interval_start": interval,
                "grid_fee": self.keeper.grid_fee(state, zone),
                "bids": [order_json(o) for o in sorted(bids, key=lambda o: (-o.price,
                                                                             o.order_id))],
                "offers": [order_json(o) for o in sorted(offers, key=lambda o: (o.price,
                                                                                 o.order_id))]}

    def orders(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        owner = _address(data, "owner")
        found = [order_json(o) for o in self.keeper.orders_of(state, owner)]
        return {"orders": found[-MAX_RESULTS:]}

    def clearing(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        record = self.keeper.get_clearing(state, _text(data, "zone"),
                                          query_int(data, "interval_start"))
        if record is None:
            raise RecordNotFound("that book has not cleared (yet)")
        return clearing_json(record)

    def clearings(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        records = [clearing_json(r) for r in self.keeper.iterate_clearings(
            state, _text(data, "zone"))]
        return {"clearings": records[-MAX_RESULTS:]}

    def trades(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        """Filters: account, zone, interval_start, from_ms <= interval start < to_ms.
        The last MAX_RESULTS by trade id; ``truncated`` says when more matched."""
        account = _address(data, "account") if "account" in data else None
        zone = data.get("zone")
        interval = data.get("interval_start")
        start = query_int(data, "from_ms") if "from_ms" in data else 0
        end = query_int(data, "to_ms") if "to_ms" in data else 1 << 64
        found = []
        for trade in self.keeper.iterate_trades(state):
            if account is not None and account not in (trade.buyer, trade.seller):
                continue
            if zone is not None and trade.zone != zone:
                continue
            if interval is not None and trade.interval_start != interval:
                continue
            if not start <= trade.interval_start < end:
                continue
            found.append(trade_json(trade))
        return {"trades": found[-MAX_RESULTS:], "truncated": len(found) > MAX_RESULTS}

    def certificates(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        owner = _address(data, "owner")
        items = [certificate_json(r) for r in self.keeper.certificates_of(state, owner)]
        return {"certificates": items[-MAX_RESULTS:],
                "active_wh": sum(c["wh"] for c in items if not c["retired"]),
                "retired_wh": sum(c["wh"] for c in items if c["retired"])}


def certificate_json(record: list[Any]) -> dict[str, Any]:
    cert_id, asset_id, interval, wh, owner, retired, beneficiary, trade_id = record
    return {"certificate_id": cert_id, "asset_id": asset_id, "interval_start": interval,
            "wh": wh, "owner": format_address(owner), "retired": bool(retired),
            "beneficiary": beneficiary.decode() if beneficiary else None,
            "trade_id": trade_id}
