"""Peer-to-peer trading: order books per (zone, delivery interval), escrow,
uniform-price clearing at gate closure, and the record of every trade.

Zones choose auction (default) or continuous matching. Settlement against
metered delivery, certificates, cross-zone trades and oracle-driven price
bands come next. Metering's bills read settled trades through ``history``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wattchain.modules.trading import genesis, invariants
from wattchain.modules.trading.gate import GateClosure
from wattchain.modules.trading.handlers import TradingHandlers
from wattchain.modules.trading.history import TradeHistory
from wattchain.modules.trading.keeper import TradingKeeper
from wattchain.modules.trading.matching import Matcher
from wattchain.modules.trading.queries import TradingQueries
from wattchain.modules.trading.settlement import Settlement
from wattchain.modules.trading.types import ESCROW_ACCOUNT, Bank, MeteredEnergy, Registry
from wattchain.vm.interface import Context, Handler, Query
from wattchain.vm.state import Overlay, StateReader


class TradingModule:
    name = "trading"

    def __init__(self, bank: Bank, registry: Registry, energy: MeteredEnergy) -> None:
        self.keeper = TradingKeeper()
        self.bank = bank
        self.history = TradeHistory(self.keeper)  # what bills read (metering.attach_trades)
        matcher = Matcher(self.keeper, bank, registry)
        handlers = TradingHandlers(self.keeper, bank, registry, matcher)
        queries = TradingQueries(self.keeper)
        self.gate = GateClosure(self.keeper, matcher, registry)
        self.settlement = Settlement(self.keeper, bank, registry, energy)
        self.handlers: Mapping[str, Handler] = {
            "place_order": handlers.place_order,
            "cancel_order": handlers.cancel_order,
            "reduce_order": handlers.reduce_order,
            "set_grid_fee": handlers.set_grid_fee,
            "set_price_band": handlers.set_price_band,
            "set_market_mode": handlers.set_market_mode,
            "set_imbalance_price": handlers.set_imbalance_price,
            "set_interconnection": handlers.set_interconnection,
            "transfer_certificate": handlers.transfer_certificate,
            "retire_certificate": handlers.retire_certificate,
        }
        self.queries: Mapping[str, Query] = {
            "params": queries.params,
            "order": queries.order,
            "book": queries.book,
            "orders": queries.orders,
            "clearing": queries.clearing,
            "clearings": queries.clearings,
            "trades": queries.trades,
            "certificates": queries.certificates,
        }

    def init_genesis(self, state: Overlay, section: Mapping[str, Any]) -> None:
        genesis.init_genesis(self.keeper, state, section)

    def export_genesis(self, state: StateReader) -> dict[str, Any]:
        return genesis.export_genesis(self.keeper, state)

    def end_block(self, ctx: Context) -> None:
        self.gate.close_due_books(ctx)
        self.settlement.settle_due(ctx)

    def check_invariants(self, state: StateReader) -> list[str]:
        balance = self.bank.get_balance(state, ESCROW_ACCOUNT)
        return (invariants.check_escrow(self.keeper, state, balance)
                + invariants.check_capacity(self.keeper, state))
