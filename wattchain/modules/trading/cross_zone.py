"""Trades across zones, within the interconnection capacity DSOs set.

A zone's DSO opens a link from its zone to another with
``set_interconnection [from_zone, to_zone, capacity_w, fee_per_kwh]``. At the
gate of an interval, after every due book cleared locally, each link (in
sorted order of its zone pair) runs one uniform-price auction between:

* the offers of the exporting zone with energy left (no named counterparty),
  cheapest first and cut to the link's capacity over the interval
  (capacity_w x interval / 1 h, in Wh): the capped volume goes to the
  cheapest supply;
* the bids of the importing zone with energy left (no named counterparty,
  not renewable-only), each at an effective limit of its price plus the grid
  fee it escrowed minus the link's fee: a buyer pays at most what it
  escrowed, the link's fee replacing its own zone's fee.

Fills trade at the auction's price and carry the link's fee, which goes to
the exporting zone's DSO at settlement.
"""

from __future__ import annotations

from wattchain.modules.trading.clearing import Order as AuctionOrder
from wattchain.modules.trading.clearing import clear
from wattchain.modules.trading.keeper import TradingKeeper
from wattchain.modules.trading.matching import Matcher
from wattchain.modules.trading.types import MS_PER_HOUR, Order
from wattchain.vm.interface import Context


class CrossZone:
    def __init__(self, keeper: TradingKeeper, matcher: Matcher) -> None:
        self.keeper = keeper
        self.matcher = matcher

    def clear_links(self, ctx: Context, interval_start: int,
                    books: dict[str, tuple[list[Order], list[Order]]]) -> None:
        for (source, target), (capacity_w, fee) in self.keeper.links(ctx.state):
            if source in books and target in books:
                self._clear_link(ctx, interval_start, source, target, capacity_w, fee,
                                 books[target][0], books[source][1])

    def _clear_link(self, ctx: Context, interval_start: int, source: str, target: str,
                    capacity_w: int, fee: int, bids: list[Order], offers: list[Order]) -> None:
        capacity_wh = capacity_w * ctx.params.interval_ms // MS_PER_HOUR
        buyers = {b.order_id: b for b in bids if b.remaining_wh and not b.counterparty
                  and not b.renewable_only and b.price + b.grid_fee >= fee}
        sellers = {o.order_id: o for o in offers if o.remaining_wh and not o.counterparty}
        supply: list[AuctionOrder] = []
        room = capacity_wh
        for offer in sorted(sellers.values(), key=lambda o: (o.price, o.order_id)):
            if room <= 0:
                break
            supply.append(AuctionOrder(offer.order_id, offer.price, min(offer.remaining_wh, room)))
            room -= supply[-1].quantity
        demand = [AuctionOrder(b.order_id, b.price + b.grid_fee - fee, b.remaining_wh)
                  for b in buyers.values()]
        result = clear(demand, supply)
        for fill in result.fills:
            self.matcher.record_trade(ctx, buyers[fill.bid_id], sellers[fill.offer_id],
                                      fill.quantity, fill.price, fee_rate=fee)
        if result.volume:
            self.keeper.save_cross_clearing(ctx.state, source, target, interval_start,
                                            [result.price, result.volume])
            ctx.emit("cross_zone_clearing", {"from": source, "to": target,
                                             "interval": interval_start,
                                             "price": result.price,
                                             "volume_wh": result.volume})






