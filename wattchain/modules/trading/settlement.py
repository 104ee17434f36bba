"""Settlement of trades against metered delivery, and certificates.

A trade settles at the first end_block at least ``settlement_delay_ms`` after
its interval ended (late meter readings may still arrive until then). For
each seller and interval, in this published order:

1. *Delivered*: the seller's metered grid export in the interval, up to what
   it sold, is shared over its trades of that interval pro rata by energy
   (remainders by ascending trade id, as in clearing).
2. *Payment*: the buyer pays delivered x price to the seller, and the share
   of the trade's grid fee for the delivered energy to the DSO of the seller's
   zone, from the trade's escrow; the rest of the escrow returns to the buyer.
   Amounts round down to the micro-unit.
3. *Shortfall*: for energy sold but not delivered, the seller pays the buyer
   the imbalance premium: shortfall x max(0, imbalance price - trade price),
   as far as the seller's balance allows (the imbalance price balancing set
   for the zone and interval within the DSO's bounds; without one, the zone's
   current price, which its DSO may set by hand).
4. *Certificates*: delivered energy from an asset that is renewable and
   certified for the interval mints a granular certificate (asset, interval,
   Wh) to the buyer.

Only transfers move money, so balances + escrow + fee pool stay constant.
"""

from __future__ import annotations

from collections import defaultdict

from wattchain.modules.trading import keys
from wattchain.modules.trading.clearing import pro_rata
from wattchain.modules.trading.expected import Bank, MeteredEnergy, Registry
from wattchain.modules.trading.keeper import TradingKeeper
from wattchain.modules.trading.types import (
    ESCROW_ACCOUNT,
    WH_PER_KWH,
    Trade,
    payment_for,
)
from wattchain.vm.interface import Context


class Settlement:
    def __init__(self, keeper: TradingKeeper, bank: Bank, registry: Registry,
                 energy: MeteredEnergy) -> None:
        self.keeper = keeper
        self.bank = bank
        self.registry = registry
        self.energy = energy

    def settle_due(self, ctx: Context) -> None:
        params = self.keeper.params(ctx.state)
        interval_ms = ctx.params.interval_ms
        # intervals that ended at least the delay ago: start <= now - delay - length
        before = ctx.time_ms - params.settlement_delay_ms - interval_ms + 1
        groups: dict[tuple[bytes, int], list[Trade]] = defaultdict(list)
        for trade in self.keeper.pending_trades(ctx.state, before):
            groups[(trade.seller, trade.interval_start)].append(trade)
        for (seller, interval_start), trades in sorted(groups.items(),
                                                      key=lambda item: (item[0][1], item[0][0])):
            self._settle_seller(ctx, seller, interval_start, trades)

    def _settle_seller(self, ctx: Context, seller: bytes, interval_start: int,
                       trades: list[Trade]) -> None:
        sold = sum(t.energy_wh for t in trades)
        exported = self.energy.account_energy(ctx.state, seller, interval_start).export_wh
        delivered = pro_rata({t.trade_id: t.energy_wh for t in trades}, min(sold, exported))
        for trade in sorted(trades, key=lambda t: t.trade_id):
            self._settle_trade(ctx, trade, delivered[trade.trade_id])

    def _settle_trade(self, ctx: Context, trade: Trade, delivered: int) -> None:
        state = ctx.state
        paid = min(payment_for(delivered, trade.price), trade.cost)
        fee_paid = trade.grid_fee * delivered // trade.energy_wh
        refund = trade.cost + trade.grid_fee - paid - fee_paid
        if paid:
            self.bank.transfer(state, ESCROW_ACCOUNT, trade.seller, paid)
        # the fee is the grid's of the seller's zone (for a cross-zone trade, the link's)
        seller_zone = self.registry.zone_of(state, trade.asset_id) or trade.zone
        operator = self.registry.zone_operator(state, seller_zone)
        if fee_paid:
            self.bank.transfer(state, ESCROW_ACCOUNT, operator or trade.buyer, fee_paid)
        if refund:
            self.bank.transfer(state, ESCROW_ACCOUNT, trade.buyer, refund)
        trade.penalty = self._penalty(ctx, trade, trade.energy_wh - delivered)
        trade.settled, trade.delivered_wh, trade.paid, trade.fee_paid = True, delivered, paid, \
            fee_paid
        self.keeper.save_trade(state, trade)
        ctx.emit("settlement", {"trade_id": trade.trade_id, "delivered_wh": delivered,
                                "paid": paid, "fee_paid": fee_paid, "refund": refund,
                                "penalty": trade.penalty})
        if delivered and self.registry.is_renewable(state, trade.asset_id,
                                                    trade.interval_start):
            self._mint_certificate(ctx, trade, delivered)

    def _penalty(self, ctx: Context, trade: Trade, shortfall: int) -> int:
        premium = self.keeper.imbalance_price_at(ctx.state, trade.zone,
                                                 trade.interval_start) - trade.price
        if shortfall <= 0 or premium <= 0:
            return 0
        owed = shortfall * premium // WH_PER_KWH
        penalty = min(owed, self.bank.get_balance(ctx.state, trade.seller))
        if penalty:
            self.bank.transfer(ctx.state, trade.seller, trade.buyer, penalty)
        return penalty

    def _mint_certificate(self, ctx: Context, trade: Trade, delivered: int) -> None:
        cert_id = self.keeper.next_id(ctx.state, keys.NEXT_CERT_KEY)
        self.keeper.save_certificate(ctx.state, [cert_id, trade.asset_id, trade.interval_start,
                                                 delivered, trade.buyer, 0, b"",
                                                 trade.trade_id])
        ctx.emit("certificate_issued", {"certificate_id": cert_id, "asset_id": trade.asset_id,
                                        "interval": trade.interval_start, "wh": delivered,
                                        "owner": trade.buyer})

