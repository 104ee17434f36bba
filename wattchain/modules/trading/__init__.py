"""Peer-to-peer trading: order books per (zone, delivery interval), escrow,
uniform-price clearing at gate closure, and the record of every trade.

Zones choose auction (default) or continuous matching (``handlers``,
``matching``); books clear at gate closure (``gate``, ``clearing``,
``cross_zone``) and trades settle against metered delivery (``settlement``).
Metering's bills read settled trades through ``history``. What trading needs
from other modules is in ``expected``.
"""

from __future__ import annotations

from wattchain.modules.trading import genesis, invariants
from wattchain.modules.trading.expected import Bank, MeteredEnergy, Registry
from wattchain.modules.trading.gate import GateClosure
from wattchain.modules.trading.handlers import TradingHandlers
from wattchain.modules.trading.history import TradeHistory
from wattchain.modules.trading.keeper import TradingKeeper
from wattchain.modules.trading.matching import Matcher
from wattchain.modules.trading.queries import TradingQueries
from wattchain.modules.trading.settlement import Settlement
from wattchain.modules.trading.types import ESCROW_ACCOUNT
from wattchain.vm.interface import Context, RoleChecker
from wattchain.vm.module import BaseModule, methods_of
from wattchain.vm.state import StateReader


class TradingModule(BaseModule[TradingKeeper]):
    name = "trading"

    def __init__(self, bank: Bank, registry: Registry, energy: MeteredEnergy,
                 roles: RoleChecker) -> None:
        keeper = TradingKeeper()
        matcher = Matcher(keeper, bank, registry)
        super().__init__(
            keeper, genesis, invariants,
            handlers=methods_of(TradingHandlers(keeper, bank, registry, matcher, roles),
                                "place_order", "cancel_order", "reduce_order", "set_grid_fee",
                                "set_price_band", "set_market_mode", "set_imbalance_price",
                                "set_interconnection", "transfer_certificate",
                                "retire_certificate"),
            queries=methods_of(TradingQueries(keeper), "params", "order", "book", "orders",
                               "clearing", "clearings", "trades", "certificates"))
        self.bank = bank
        self.history = TradeHistory(keeper)  # what bills read (metering.attach_trades)
        self.gate = GateClosure(keeper, matcher, registry)
        self.settlement = Settlement(keeper, bank, registry, energy)

    def end_block(self, ctx: Context) -> None:
        self.gate.close_due_books(ctx)
        self.settlement.settle_due(ctx)

    def check_invariants(self, state: StateReader) -> list[str]:
        balance = self.bank.get_balance(state, ESCROW_ACCOUNT)
        return invariants.check_escrow(self.keeper, state, balance) + super().check_invariants(
            state)
