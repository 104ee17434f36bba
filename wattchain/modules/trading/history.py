"""The record of trades as other modules read it (metering's bills).

``TradeHistory`` answers metering's ``SettledTrades`` protocol structurally:
for an account and a period, its side of every settled trade, and how many
of its trades there are still waiting for settlement.
"""

from __future__ import annotations

from dataclasses import dataclass

from wattchain.modules.trading import keys
from wattchain.modules.trading.keeper import TradingKeeper
from wattchain.modules.trading.types import Trade
from wattchain.vm.state import StateReader

BUYER = "buyer"
SELLER = "seller"


@dataclass(frozen=True, slots=True)
class AccountTrade:
    """One account's side of a settled trade."""

    trade_id: int
    interval_start: int
    role: str  # BUYER or SELLER
    delivered_wh: int
    paid: int
    fee_paid: int
    penalty: int


def sides_of(trade: Trade, account: bytes) -> list[AccountTrade]:
    """The account's sides of ``trade``: none, one, or both for a self-trade."""
    roles = [role for role, party in ((BUYER, trade.buyer), (SELLER, trade.seller))
             if party == account]
    return [AccountTrade(trade.trade_id, trade.interval_start, role, trade.delivered_wh,
                         trade.paid, trade.fee_paid, trade.penalty) for role in roles]


class TradeHistory:
    def __init__(self, keeper: TradingKeeper) -> None:
        self.keeper = keeper

    def settled_for(self, state: StateReader, account: bytes, start_ms: int,
                    end_ms: int) -> list[AccountTrade]:
        """By ascending trade id; trades with interval start in [start_ms, end_ms)."""
        found: list[AccountTrade] = []
        for trade in self.keeper.iterate_trades(state):
            if trade.settled and start_ms <= trade.interval_start < end_ms:
                found += sides_of(trade, account)
        return found

    def pending_for(self, state: StateReader, account: bytes, start_ms: int,
                    end_ms: int) -> int:
        """Unsettled trades of the account with interval start in [start_ms, end_ms)."""
        count = 0
        offset = len(keys.PENDING_PREFIX)
        for key, _ in state.iterate(keys.PENDING_PREFIX):  # by interval start
            interval_start = int.from_bytes(key[offset:offset + 8], "big")
            if interval_start >= end_ms:
                break
            trade = self.keeper.get_trade(state, int.from_bytes(key[offset + 8:], "big"))
            if (interval_start >= start_ms and trade is not None
                    and account in (trade.buyer, trade.seller)):
                count += 1
        return count
