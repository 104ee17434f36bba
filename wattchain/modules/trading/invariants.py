"""Invariants of the trading module, checked in tests after every block."""

from __future__ import annotations

from collections import defaultdict

from wattchain.modules.trading.keeper import TradingKeeper
from wattchain.modules.trading.types import BUY, ESCROW_ACCOUNT, OPEN, SELL
from wattchain.vm.state import StateReader


def check_escrow(keeper: TradingKeeper, state: StateReader, escrow_balance: int) -> list[str]:
    """Escrow holds exactly the open bids' locks plus the trades' obligations."""
    locked = sum(o.escrow for o in keeper.iterate_orders(state) if o.side == BUY)
    owed = sum(t.obligation for t in keeper.iterate_trades(state))
    problems = []
    if any(o.escrow < 0 for o in keeper.iterate_orders(state)):
        problems.append("trading: an order holds negative escrow")
    if escrow_balance != locked + owed:
        problems.append(f"trading: escrow balance {escrow_balance} != locked {locked} + "
                        f"owed {owed}")
    return problems


def check_capacity(keeper: TradingKeeper, state: StateReader) -> list[str]:
    """Capacity reserved per (asset, interval) equals open offers plus energy sold."""
    expected: dict[tuple[int, int], int] = defaultdict(int)
    for order in keeper.iterate_orders(state):
        if order.side == SELL and order.status == OPEN:
            expected[(order.asset_id, order.interval_start)] += order.remaining_wh
    for trade in keeper.iterate_trades(state):
        expected[(trade.asset_id, trade.interval_start)] += trade.energy_wh
    problems = []
    for (asset_id, interval), wh in expected.items():
        if keeper.sold(state, asset_id, interval) != wh:
            problems.append(f"trading: asset {asset_id} interval {interval} reserves "
                            f"{keeper.sold(state, asset_id, interval)} Wh, expected {wh}")
    return problems


def check_all(keeper: TradingKeeper, state: StateReader) -> list[str]:
    """The invariants that need only trading's own state (the escrow check also
    needs the bank: ``TradingModule.check_invariants``)."""
    return check_capacity(keeper, state)


__all__ = ["check_all", "check_escrow", "check_capacity", "ESCROW_ACCOUNT"]
