"""Transaction handlers of the trading module.

* ``place_order [side, zone, interval_start, energy_wh, price, expiry_ms,
  renewable_only, counterparty, asset_id]``: a limit order for one book.
  A buy locks its maximum cost (energy x price + the zone's grid fee) in
  escrow. A sell names an active asset of the seller (else NotOwner) in that
  zone whose capacity over the interval covers all its open sells for the
  interval.
* ``cancel_order [order_id]`` and ``reduce_order [order_id, energy_wh]`` (its
  owner): before the gate closes; escrow and capacity are released.
* ``set_grid_fee [zone, fee_per_kwh]``, ``set_price_band [zone, floor,
  ceiling]`` and ``set_market_mode [zone, auction|continuous]`` (also
  ``set_imbalance_price`` and ``set_interconnection`` from the zone): by the
  zone's operator while it holds the dso role (else NotDso).
* ``transfer_certificate`` and ``retire_certificate``: by the holder (else
  NotOwner). In continuous mode an incoming order matches resting orders at
  once (``matching.Matcher.match_incoming``).
"""

from __future__ import annotations

from typing import Any

from wattchain.modules.trading import keys
from wattchain.modules.trading.errors import (
    CertificateError,
    GateClosed,
    InvalidOrderArgs,
    MarketSuspended,
    NoCapacity,
    NotDso,
    NotOwner,
    OrderNotOpen,
    OutsidePriceBand,
    TooManyOrders,
    UnknownOrder,
)
from wattchain.modules.trading.expected import Bank, Registry
from wattchain.modules.trading.keeper import TradingKeeper
from wattchain.modules.trading.matching import Matcher
from wattchain.modules.trading.types import (
    BUY,
    CANCELLED,
    CONTINUOUS,
    ESCROW_ACCOUNT,
    MODES,
    MS_PER_HOUR,
    OPEN,
    RESTRICTION_CAPPED,
    RESTRICTION_SUSPENDED,
    SELL,
    SIDES,
    Order,
    cost_of,
)
from wattchain.vm.fields import arg_address, arg_amount, arg_text, expect_args
from wattchain.vm.interface import Context, RoleChecker, operates_zone

USAGE = ("side (buy|sell), zone, interval_start_ms, energy_wh, price_per_kwh, expiry_ms, "
         "renewable_only (0|1), counterparty (address or empty bytes), asset_id")


class TradingHandlers:
    def __init__(self, keeper: TradingKeeper, bank: Bank, registry: Registry,
                 matcher: Matcher, roles: RoleChecker) -> None:
        self.keeper = keeper
        self.bank = bank
        self.registry = registry
        self.matcher = matcher
        self.roles = roles

    def place_order(self, ctx: Context, args: list[Any]) -> None:
        order = self._parse_order(ctx, expect_args(args, 9, USAGE))
        state, keeper = ctx.state, self.keeper
        params = keeper.params(state)
        if keeper.open_orders_of(state, ctx.sender) >= params.max_open_orders:
            raise TooManyOrders(f"at most {params.max_open_orders} open orders per account")
        closure = order.interval_start - params.gate_closure_ms
        if ctx.time_ms >= closure:
            raise GateClosed(f"the book for interval {order.interval_start} closed at {closure}")
        mode, cap = keeper.restriction(state, order.zone)
        if mode == RESTRICTION_SUSPENDED:
            raise MarketSuspended(f"an emergency suspended the market of zone {order.zone!r}")
        if mode == RESTRICTION_CAPPED and order.price > cap:
            raise MarketSuspended(f"an emergency caps prices in zone {order.zone!r} at {cap}")
        band = keeper.price_band(state, order.zone)
        if band is not None and not band[0] <= order.price <= band[1]:
            raise OutsidePriceBand(f"price must be within {band[0]}..{band[1]} in this zone")
        if order.side == BUY:
            order.grid_fee = keeper.grid_fee(state, order.zone)
            order.escrow = cost_of(order.energy_wh, order.price + order.grid_fee)
            self.bank.transfer(state, ctx.sender, ESCROW_ACCOUNT, order.escrow)
        else:
            self._reserve_capacity(ctx, order)
        order.order_id = keeper.next_id(state, keys.NEXT_ORDER_KEY)
        keeper.save_order(state, order)
        keeper.schedule_book(state, closure, order.zone, order.interval_start)
        ctx.emit("order_placed", {"order_id": order.order_id, "owner": ctx.sender,
                                  "side": "buy" if order.side == BUY else "sell",
                                  "zone": order.zone, "interval": order.interval_start,
                                  "energy_wh": order.energy_wh, "price": order.price})
        if keeper.mode(state, order.zone) == CONTINUOUS:
            self.matcher.match_incoming(ctx, order)

    def _parse_order(self, ctx: Context, args: list[Any]) -> Order:
        side_raw, zone_raw, interval_raw, energy_raw, price_raw, expiry_raw, renewable_raw, \
            counterparty_raw, asset_raw = args
        if side_raw not in SIDES:
            raise InvalidOrderArgs("side must be \"buy\" or \"sell\"")
        zone = arg_text(zone_raw, "zone")
        interval_start = arg_amount(interval_raw, "interval start")
        if interval_start % ctx.params.interval_ms:
            raise InvalidOrderArgs(f"interval start must be a multiple of {ctx.params.interval_ms}")
        energy = arg_amount(energy_raw, "energy")
        if energy > self.keeper.params(ctx.state).max_order_wh:
            raise InvalidOrderArgs("energy is above the maximum order size")
        if renewable_raw not in (0, 1) or type(renewable_raw) is not int:
            raise InvalidOrderArgs("renewable_only must be 0 or 1")
        if type(counterparty_raw) is not bytes or len(counterparty_raw) not in (0, 20):
            raise InvalidOrderArgs("counterparty must be a 20-byte address or empty bytes")
        return Order(0, ctx.sender, SIDES[side_raw], zone, interval_start, energy, energy,
                     arg_amount(price_raw, "price", allow_zero=True),
                     arg_amount(expiry_raw, "expiry", allow_zero=True), bool(renewable_raw),
                     counterparty_raw, arg_amount(asset_raw, "asset id", allow_zero=True), 0,
                     OPEN, ctx.time_ms)

    def _reserve_capacity(self, ctx: Context, order: Order) -> None:
        state, registry = ctx.state, self.registry
        if order.asset_id not in registry.assets_of(state, ctx.sender):
            raise NotOwner("a sell order must name an asset you own")
        if registry.zone_of(state, order.asset_id) != order.zone:
            raise NoCapacity("the asset is not connected in this zone")
        capacity_w = registry.active_capacity(state, order.asset_id, order.interval_start)
        deliverable = capacity_w * ctx.params.interval_ms // MS_PER_HOUR
        sold = self.keeper.sold(state, order.asset_id, order.interval_start)
        if sold + order.energy_wh > deliverable:
            raise NoCapacity(f"the asset can deliver {deliverable} Wh in the interval; "
                             f"{sold} Wh are already offered")
        self.keeper.add_sold(state, order.asset_id, order.interval_start, order.energy_wh)

    def cancel_order(self, ctx: Context, args: list[Any]) -> None:
        (order_id,) = expect_args(args, 1, "order_id")
        order = self._own_open_order(ctx, order_id)
        self._release(ctx, order, order.remaining_wh)
        order.status = CANCELLED
        self.keeper.save_order(ctx.state, order)
        ctx.emit("order_cancelled", {"order_id": order.order_id, "owner": ctx.sender})

    def reduce_order(self, ctx: Context, args: list[Any]) -> None:
        order_id, energy_raw = expect_args(args, 2, "order_id, new energy_wh")
        order = self._own_open_order(ctx, order_id)
        energy = arg_amount(energy_raw, "energy")
        if energy >= order.remaining_wh:
            raise InvalidOrderArgs("reduce_order only lowers the energy of an order")
        self._release(ctx, order, order.remaining_wh - energy)
        order.remaining_wh = order.energy_wh = energy
        self.keeper.save_order(ctx.state, order)
        ctx.emit("order_reduced", {"order_id": order.order_id, "energy_wh": energy})

    def _own_open_order(self, ctx: Context, order_id: Any) -> Order:
        order = self.keeper.get_order(ctx.state, arg_amount(order_id, "order id"))
        if order is None:
            raise UnknownOrder(f"no order {order_id}")
        if order.owner != ctx.sender:
            raise NotOwner("only the owner may change an order")
        if order.status != OPEN:
            raise OrderNotOpen("the order is no longer open")
        closure = order.interval_start - self.keeper.params(ctx.state).gate_closure_ms
        if ctx.time_ms >= closure:
            raise GateClosed("the book has closed")
        return order

    def _release(self, ctx: Context, order: Order, energy_wh: int) -> None:
        """Give back the escrow or capacity that ``energy_wh`` of the order held."""
        if order.side == SELL:
            self.keeper.add_sold(ctx.state, order.asset_id, order.interval_start, -energy_wh)
            return
        keep = cost_of(order.remaining_wh - energy_wh, order.price + order.grid_fee)
        refund = order.escrow - keep
        if refund:
            self.bank.transfer(ctx.state, ESCROW_ACCOUNT, order.owner, refund)
        order.escrow = keep

    def _zone_and_rate(self, ctx: Context, args: list[Any], name: str) -> tuple[str, int]:
        """[zone, <name> per kWh] of a zone the sender operates."""
        zone_raw, rate_raw = expect_args(args, 2, f"zone, {name} per kWh")
        return self._operated_zone(ctx, zone_raw), arg_amount(rate_raw, name, allow_zero=True)

    def set_grid_fee(self, ctx: Context, args: list[Any]) -> None:
        zone, fee = self._zone_and_rate(ctx, args, "fee")
        self.keeper.set_grid_fee(ctx.state, zone, fee)
        ctx.emit("grid_fee", {"zone": zone, "fee_per_kwh": fee})

    def set_price_band(self, ctx: Context, args: list[Any]) -> None:
        zone_raw, floor_raw, ceiling_raw = expect_args(args, 3, "zone, floor, ceiling")
        zone = self._operated_zone(ctx, zone_raw)
        floor = arg_amount(floor_raw, "floor", allow_zero=True)
        ceiling = arg_amount(ceiling_raw, "ceiling")
        if floor > ceiling:
            raise InvalidOrderArgs("the floor must not exceed the ceiling")
        self.keeper.set_price_band(ctx.state, zone, floor, ceiling)
        ctx.emit("price_band", {"zone": zone, "floor": floor, "ceiling": ceiling})

    def set_market_mode(self, ctx: Context, args: list[Any]) -> None:
        zone_raw, mode_raw = expect_args(args, 2, "zone, mode (auction|continuous)")
        zone = self._operated_zone(ctx, zone_raw)
        if mode_raw not in MODES:
            raise InvalidOrderArgs("mode must be \"auction\" or \"continuous\"")
        self.keeper.set_mode(ctx.state, zone, MODES[mode_raw])
        ctx.emit("market_mode", {"zone": zone, "mode": mode_raw})

    def set_interconnection(self, ctx: Context, args: list[Any]) -> None:
        source_raw, target_raw, capacity_raw, fee_raw = expect_args(
            args, 4, "from zone, to zone, capacity W (0 closes the link), fee per kWh")
        source = self._operated_zone(ctx, source_raw)
        target = arg_text(target_raw, "to zone")
        if target == source or self.registry.zone_operator(ctx.state, target) is None:
            raise InvalidOrderArgs("the link must lead to another existing zone")
        capacity = arg_amount(capacity_raw, "capacity", allow_zero=True)
        fee = arg_amount(fee_raw, "fee", allow_zero=True)
        self.keeper.set_link(ctx.state, source, target, capacity, fee)
        ctx.emit("interconnection", {"from": source, "to": target, "capacity_w": capacity,
                                     "fee_per_kwh": fee})

    def set_imbalance_price(self, ctx: Context, args: list[Any]) -> None:
        zone, price = self._zone_and_rate(ctx, args, "price")
        self.keeper.set_imbalance_price(ctx.state, zone, price)
        ctx.emit("imbalance_price", {"zone": zone, "price": price})

    def transfer_certificate(self, ctx: Context, args: list[Any]) -> None:
        cert_raw, to_raw = expect_args(args, 2, "certificate id, recipient")
        record = self._own_live_certificate(ctx, cert_raw)
        recipient = arg_address(to_raw, "recipient")
        record[4] = recipient
        self.keeper.save_certificate(ctx.state, record, previous_owner=ctx.sender)
        ctx.emit("certificate_transferred", {"certificate_id": record[0], "from": ctx.sender,
                                             "to": recipient})

    def retire_certificate(self, ctx: Context, args: list[Any]) -> None:
        cert_raw, beneficiary_raw = expect_args(args, 2, "certificate id, beneficiary")
        record = self._own_live_certificate(ctx, cert_raw)
        beneficiary = arg_text(beneficiary_raw, "beneficiary", max_len=128)
        record[5], record[6] = 1, beneficiary.encode()
        self.keeper.save_certificate(ctx.state, record)
        ctx.emit("certificate_retired", {"certificate_id": record[0], "owner": ctx.sender,
                                         "beneficiary": beneficiary, "wh": record[3]})

    def _own_live_certificate(self, ctx: Context, cert_raw: Any) -> list[Any]:
        cert_id = arg_amount(cert_raw, "certificate id")
        record = self.keeper.get_certificate(ctx.state, cert_id)
        if record is None:
            raise CertificateError(f"no certificate {cert_id}")
        if record[4] != ctx.sender:
            raise NotOwner("only the certificate's holder may transfer or retire it")
        if record[5]:
            raise CertificateError("the certificate is retired: its claim is made")
        return record

    def _operated_zone(self, ctx: Context, zone_raw: Any) -> str:
        zone = arg_text(zone_raw, "zone")
        operator = self.registry.zone_operator(ctx.state, zone)
        if not operates_zone(self.roles, ctx.state, ctx.sender, operator):
            raise NotDso("only the DSO that operates the zone (holding the dso role) may "
                         "set this")
        return zone
