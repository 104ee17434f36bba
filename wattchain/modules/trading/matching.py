"""Turning a match into a trade, and the continuous (price-time) mode.

Shared by gate closure and continuous matching, so a trade is recorded the
same way wherever it comes from: the buyer's cost (energy x price) and grid
fee (energy x the fee fixed when the bid was placed), each rounded down to
the micro-unit, move from the bid's escrow into the trade's obligation; the
seller's capacity stays reserved for the energy sold.
"""

from __future__ import annotations

from wattchain.modules.trading import keys
from wattchain.modules.trading.expected import Bank, Registry
from wattchain.modules.trading.keeper import TradingKeeper
from wattchain.modules.trading.types import (
    BUY,
    ESCROW_ACCOUNT,
    FILLED,
    OPEN,
    Order,
    Trade,
    payment_for,
)
from wattchain.vm.interface import Context


class Matcher:
    def __init__(self, keeper: TradingKeeper, bank: Bank, registry: Registry) -> None:
        self.keeper = keeper
        self.bank = bank
        self.registry = registry

    def record_trade(self, ctx: Context, bid: Order, offer: Order, quantity: int,
                     price: int, fee_rate: int | None = None) -> Trade:
        """``fee_rate`` (per kWh) defaults to the bid's own zone fee."""
        rate = bid.grid_fee if fee_rate is None else fee_rate
        cost, fee = payment_for(quantity, price), payment_for(quantity, rate)
        bid.remaining_wh -= quantity
        bid.escrow -= cost + fee  # now the trade's obligation, still in escrow
        offer.remaining_wh -= quantity
        trade = Trade(self.keeper.next_id(ctx.state, keys.NEXT_TRADE_KEY), bid.zone,
                      bid.interval_start, bid.order_id, offer.order_id, bid.owner, offer.owner,
                      offer.asset_id, quantity, price, cost, fee)
        self.keeper.save_trade(ctx.state, trade)
        ctx.emit("trade", {"trade_id": trade.trade_id, "zone": trade.zone,
                           "interval": trade.interval_start, "buyer": trade.buyer,
                           "seller": trade.seller, "energy_wh": quantity, "price": price})
        return trade

    def release_rest(self, ctx: Context, order: Order) -> None:
        """Refund a bid's unused escrow, or release an offer's unsold capacity."""
        if order.side == BUY:
            if order.escrow:
                self.bank.transfer(ctx.state, ESCROW_ACCOUNT, order.owner, order.escrow)
                order.escrow = 0
        elif order.remaining_wh:
            self.keeper.add_sold(ctx.state, order.asset_id, order.interval_start,
                                 -order.remaining_wh)

    def can_match(self, ctx: Context, bid: Order, offer: Order) -> bool:
        """Options: a named counterparty binds both ways; renewable-only bids need
        an offer backed by an asset renewable and certified for the interval."""
        if bid.counterparty and offer.owner != bid.counterparty:
            return False
        if offer.counterparty and bid.owner != offer.counterparty:
            return False
        return not bid.renewable_only or self.registry.is_renewable(
            ctx.state, offer.asset_id, offer.interval_start)

    def match_incoming(self, ctx: Context, incoming: Order) -> None:
        """Continuous mode: match ``incoming`` against resting orders of its book by
        price-time priority (best price, then lowest order id), at the resting
        order's price, until it is filled or nothing crosses."""
        resting_side = 1 - incoming.side
        resting = [o for o in self.keeper.book_orders(ctx.state, incoming.zone,
                                                      incoming.interval_start, resting_side)
                   if o.status == OPEN and o.order_id != incoming.order_id]
        is_buy = incoming.side == BUY
        resting.sort(key=lambda o: ((o.price if is_buy else -o.price), o.order_id))
        for other in resting:
            if incoming.remaining_wh == 0:
                break
            crosses = other.price <= incoming.price if is_buy else other.price >= incoming.price
            if not crosses:
                break
            bid, offer = (incoming, other) if is_buy else (other, incoming)
            if not self.can_match(ctx, bid, offer):
                continue
            quantity = min(bid.remaining_wh, offer.remaining_wh)
            self.record_trade(ctx, bid, offer, quantity, other.price)
            if other.remaining_wh == 0:
                self.finish(ctx, other)
            else:
                self.keeper.save_order(ctx.state, other)
        if incoming.remaining_wh == 0:
            self.finish(ctx, incoming)
        else:
            self.keeper.save_order(ctx.state, incoming)

    def finish(self, ctx: Context, order: Order) -> None:
        self.release_rest(ctx, order)
        order.status = FILLED
        self.keeper.save_order(ctx.state, order)
