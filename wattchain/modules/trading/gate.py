"""Gate closure: at end_block, every book whose gate has closed is cleared.

In continuous mode (per zone) orders matched on arrival, so a book has no
local passes at the gate. Otherwise a book clears in three passes, in this
published order:

1. *Bilateral*: a bid naming a counterparty matches, in order id order, the
   offers of that counterparty (which, if they name a counterparty, must name
   the buyer) whose price is not above the bid, at the floor of the midpoint
   of the two prices. Orders naming a counterparty trade in no other pass.
2. *Renewable*: renewable-only bids clear in a uniform-price auction
   (``clearing.clear``) against offers backed by an asset that is renewable
   and certified for the interval.
3. *Open*: all other bids clear against every offer with energy left.

Then, per interval, energy left over may cross zones (``cross_zone``), and
finally every order of the books closes. A book whose zone's market an
emergency suspended (balancing) closes unfilled: escrow and capacity return.

Each fill becomes a trade. The buyer's cost (energy x price) and
grid fee (energy x the fee fixed when the bid was placed) stay in escrow as
the trade's obligation until settlement against metered delivery (amounts
round down to the micro-unit, so they never exceed the escrow); the rest
of its escrow is refunded. A seller's capacity stays reserved for what it
sold and is released for the rest. Expired orders are released first.
"""

from __future__ import annotations

from wattchain.modules.trading.clearing import Fill, clear
from wattchain.modules.trading.clearing import Order as AuctionOrder
from wattchain.modules.trading.cross_zone import CrossZone
from wattchain.modules.trading.expected import Registry
from wattchain.modules.trading.keeper import TradingKeeper
from wattchain.modules.trading.matching import Matcher
from wattchain.modules.trading.types import (
    BUY,
    CLOSED,
    CONTINUOUS,
    EXPIRED,
    FILLED,
    RESTRICTION_SUSPENDED,
    SELL,
    Order,
    Trade,
)
from wattchain.vm.interface import Context


class GateClosure:
    def __init__(self, keeper: TradingKeeper, matcher: Matcher, registry: Registry) -> None:
        self.keeper = keeper
        self.matcher = matcher
        self.registry = registry
        self.cross_zone = CrossZone(keeper, matcher)

    def close_due_books(self, ctx: Context) -> None:
        """Clear every due book, then the cross-zone links between the books of each
        interval, then close what is left."""
        leftovers: dict[int, dict[str, tuple[list[Order], list[Order]]]] = {}
        for gate_key, zone, interval_start in self.keeper.due_books(ctx.state, ctx.time_ms):
            ctx.state.delete(gate_key)
            if self.keeper.restriction(ctx.state, zone)[0] == RESTRICTION_SUSPENDED:
                self.close_suspended(ctx, zone, interval_start)
                continue
            leftovers.setdefault(interval_start, {})[zone] = self.clear_book(
                ctx, zone, interval_start)
        for interval_start, books in sorted(leftovers.items()):
            self.cross_zone.clear_links(ctx, interval_start, books)
            for bids, offers in books.values():
                for order in bids + offers:
                    self._close(ctx, order)

    def close_suspended(self, ctx: Context, zone: str, interval_start: int) -> None:
        """An emergency suspended the zone's market: its due book closes unfilled."""
        orders = self.keeper.book_orders(ctx.state, zone, interval_start, BUY) \
            + self.keeper.book_orders(ctx.state, zone, interval_start, SELL)
        for order in sorted(orders, key=lambda o: o.order_id):
            self._close(ctx, order)
        ctx.emit("clearing", {"zone": zone, "interval": interval_start, "price": "",
                              "renewable_price": "", "volume_wh": 0, "trades": 0,
                              "suspended": 1})

    def clear_book(self, ctx: Context, zone: str,
                   interval_start: int) -> tuple[list[Order], list[Order]]:
        """Run the book's passes; return its bids and offers, not yet closed."""
        bids = self._live(ctx, self.keeper.book_orders(ctx.state, zone, interval_start, BUY))
        offers = self._live(ctx, self.keeper.book_orders(ctx.state, zone, interval_start, SELL))
        trades: list[Trade] = []
        continuous = self.keeper.mode(ctx.state, zone) == CONTINUOUS
        if not continuous:  # continuous books matched on arrival
            trades += self._bilateral(ctx, bids, offers)
        renewable_ids = {o.order_id for o in offers if not o.counterparty
                         and self.registry.is_renewable(ctx.state, o.asset_id, interval_start)}
        renewable_price = None if continuous else self._auction(
            ctx, [b for b in bids if b.renewable_only and not b.counterparty],
            [o for o in offers if o.order_id in renewable_ids], trades)
        open_price = None if continuous else self._auction(
            ctx, [b for b in bids if not b.renewable_only and not b.counterparty],
            [o for o in offers if not o.counterparty], trades)
        volume = sum(t.energy_wh for t in trades)
        self.keeper.save_clearing(ctx.state, zone, interval_start, [
            zone, interval_start, -1 if open_price is None else open_price,
            -1 if renewable_price is None else renewable_price, volume, len(trades),
            ctx.height, ctx.time_ms])
        ctx.emit("clearing", {"zone": zone, "interval": interval_start,
                              "price": "" if open_price is None else open_price,
                              "renewable_price": "" if renewable_price is None
                              else renewable_price,
                              "volume_wh": volume, "trades": len(trades)})
        return bids, offers

    def _live(self, ctx: Context, orders: list[Order]) -> list[Order]:
        """Expire orders whose expiry passed; return the rest, by order id."""
        live = []
        for order in sorted(orders, key=lambda o: o.order_id):
            if order.expiry_ms and order.expiry_ms <= ctx.time_ms:
                self.matcher.release_rest(ctx, order)
                order.status = EXPIRED
                self.keeper.save_order(ctx.state, order)
                ctx.emit("order_expired", {"order_id": order.order_id})
            else:
                live.append(order)
        return live

    def _bilateral(self, ctx: Context, bids: list[Order], offers: list[Order]) -> list[Trade]:
        trades: list[Trade] = []
        for bid in (b for b in bids if b.counterparty):
            for offer in offers:
                if bid.remaining_wh == 0:
                    break
                if (offer.owner != bid.counterparty or offer.remaining_wh == 0
                        or offer.counterparty not in (b"", bid.owner) or offer.price > bid.price):
                    continue
                quantity = min(bid.remaining_wh, offer.remaining_wh)
                price = (bid.price + offer.price) // 2
                trades.append(self._trade(ctx, bid, offer, quantity, price))
        return trades

    def _auction(self, ctx: Context, bids: list[Order], offers: list[Order],
                 trades: list[Trade]) -> int | None:
        bids = [b for b in bids if b.remaining_wh]
        offers = [o for o in offers if o.remaining_wh]
        result = clear([AuctionOrder(b.order_id, b.price, b.remaining_wh) for b in bids],
                       [AuctionOrder(o.order_id, o.price, o.remaining_wh) for o in offers])
        by_id = {o.order_id: o for o in bids + offers}
        for fill in result.fills:
            trades.append(self._apply_fill(ctx, by_id, fill))
        return result.price

    def _apply_fill(self, ctx: Context, by_id: dict[int, Order], fill: Fill) -> Trade:
        return self._trade(ctx, by_id[fill.bid_id], by_id[fill.offer_id], fill.quantity,
                           fill.price)

    def _trade(self, ctx: Context, bid: Order, offer: Order, quantity: int,
               price: int) -> Trade:
        return self.matcher.record_trade(ctx, bid, offer, quantity, price)

    def _close(self, ctx: Context, order: Order) -> None:
        """After clearing: refund unused escrow, release unsold capacity."""
        self.matcher.release_rest(ctx, order)
        order.status = FILLED if order.remaining_wh == 0 else CLOSED
        self.keeper.save_order(ctx.state, order)
