"""Tx methods of the balancing module.

* ``set_imbalance_bounds [zone, floor, ceiling]`` (the zone's operator, its
  DSO): the bounds of the zone's imbalance price in micro-units per kWh,
  ``floor <= ceiling``. From the next processed interval on, balancing sets
  the zone's imbalance price inside them (``pricing``).
* ``offer_flex [asset_id, max_charge_w, max_discharge_w, efficiency_per_mille,
  reserve_wh, soc_wh, price_up, price_down, priority]`` (the asset's owner):
  offer an active storage or flexible-load asset with a bound meter for
  dispatch, or revise the offer. Storage: charge and discharge power in
  1..nameplate, efficiency in 1..1000, reserve and initial state of charge in
  0..energy capacity (``soc_wh`` is taken on the first offer only; after it
  the state of charge follows the meter). A flexible load: ``max_discharge_w``
  is its curtailable power (1..nameplate), and the charge power, reserve,
  state of charge and ``price_down`` must be 0 (efficiency 1000). Prices in
  0..10^12 micro-units/kWh; ``priority`` 0..9 is its shedding class (0:
  critical, shed last).
* ``withdraw_flex [asset_id]`` (the owner): no longer dispatched.
* ``declare_emergency [zone, kind, severity, duration_ms]`` (the zone's DSO;
  "the zone's DSO" is its operator while it holds the dso role):
  kind shortage | overload | islanding, severity 1..3, lasting 1 ms..7 days;
  declaring again revises it (``emergency``).
* ``clear_emergency [zone]`` (the zone's DSO): the all-clear.
"""

from __future__ import annotations

from typing import Any

from wattchain.modules.balancing import emergency as rules
from wattchain.modules.balancing.errors import (
    BadBounds,
    BadEmergency,
    BadFlexArgs,
    NoEmergency,
    NotAssetOwner,
    NotFlexible,
    NotZoneOperator,
    UnknownZone,
)
from wattchain.modules.balancing.expected import GridRegistry
from wattchain.modules.balancing.keeper import BalancingKeeper
from wattchain.modules.balancing.process import Balancer
from wattchain.modules.balancing.types import (
    EMERGENCY_KINDS,
    FLEX_TYPES,
    MAX_SEVERITY,
    PER_MILLE,
    STORAGE,
    FlexAsset,
)
from wattchain.vm.errors import InvalidArgs
from wattchain.vm.fields import arg_int, expect_args
from wattchain.vm.interface import Context, RoleChecker, operates_zone

MAX_PRICE = 10**12
MAX_PRIORITY = 9
MAX_EMERGENCY_MS = 7 * 86_400_000
FLEX_USAGE = ("asset_id, max_charge_w, max_discharge_w, efficiency_per_mille, reserve_wh, "
              "soc_wh, price_up, price_down, priority")


def check_price(value: Any, name: str) -> int:
    if type(value) is not int or not -MAX_PRICE <= value <= MAX_PRICE:
        raise InvalidArgs(f"{name} must be an integer in -{MAX_PRICE}..{MAX_PRICE} "
                          "micro-units/kWh")
    return value


def check_int(value: Any, name: str, low: int, high: int) -> int:
    return arg_int(value, name, low, high, BadFlexArgs)


def check_zone(value: Any) -> str:
    if type(value) is not str or not value:
        raise InvalidArgs("zone must be a zone id")
    return value


class BalancingHandlers:
    def __init__(self, keeper: BalancingKeeper, registry: GridRegistry, balancer: Balancer,
                 roles: RoleChecker) -> None:
        self.keeper = keeper
        self.registry = registry
        self.balancer = balancer
        self.roles = roles

    def operated_zone(self, ctx: Context, zone_raw: Any, what: str) -> str:
        zone = check_zone(zone_raw)
        operator = self.registry.zone_operator(ctx.state, zone)
        if operator is None:
            raise UnknownZone(f"no zone {zone!r} is registered")
        if not operates_zone(self.roles, ctx.state, ctx.sender, operator):
            raise NotZoneOperator(f"only the operator of zone {zone!r} (holding the dso "
                                  f"role) {what}")
        return zone

    def set_imbalance_bounds(self, ctx: Context, args: list[Any]) -> None:
        zone_raw, floor_raw, ceiling_raw = expect_args(args, 3, "zone, floor, ceiling")
        zone = self.operated_zone(ctx, zone_raw, "sets its bounds")
        floor, ceiling = check_price(floor_raw, "floor"), check_price(ceiling_raw, "ceiling")
        if floor > ceiling:
            raise BadBounds(f"floor {floor} is above ceiling {ceiling}")
        self.keeper.set_bounds(ctx.state, zone, floor, ceiling)
        ctx.emit("imbalance_bounds", {"zone": zone, "floor": floor, "ceiling": ceiling})

    # -- flexibility ----------------------------------------------------------------------

    def offer_flex(self, ctx: Context, args: list[Any]) -> None:
        (asset_raw, charge_raw, discharge_raw, efficiency_raw, reserve_raw, soc_raw, up_raw,
         down_raw, priority_raw) = expect_args(args, 9, FLEX_USAGE)
        asset_id = check_int(asset_raw, "asset_id", 1, 2**63 - 1)
        asset = self.registry.get_asset(ctx.state, asset_id)
        if asset is None or asset.owner != ctx.sender:
            raise NotAssetOwner(f"asset {asset_id} is not yours")
        if asset.asset_type not in FLEX_TYPES:
            raise NotFlexible(f"a {asset.asset_type} asset offers no flexibility; "
                              f"only {' and '.join(FLEX_TYPES)}")
        if self.registry.active_capacity(ctx.state, asset_id, ctx.time_ms) <= 0:
            raise NotFlexible(f"asset {asset_id} is not active")
        if not asset.meter_id:
            raise NotFlexible(f"asset {asset_id} has no meter: dispatch is measured on it")
        capacity = asset.capacity_w
        discharge = check_int(discharge_raw, "max_discharge_w", 1, capacity)
        price_up = check_int(up_raw, "price_up", 0, MAX_PRICE)
        priority = check_int(priority_raw, "priority", 0, MAX_PRIORITY)
        if asset.asset_type == STORAGE:
            charge = check_int(charge_raw, "max_charge_w", 1, capacity)
            efficiency = check_int(efficiency_raw, "efficiency_per_mille", 1, PER_MILLE)
            reserve = check_int(reserve_raw, "reserve_wh", 0, asset.energy_wh)
            soc = check_int(soc_raw, "soc_wh", 0, asset.energy_wh)
            price_down = check_int(down_raw, "price_down", 0, MAX_PRICE)
        else:
            for value, name in ((charge_raw, "max_charge_w"), (reserve_raw, "reserve_wh"),
                                (soc_raw, "soc_wh"), (down_raw, "price_down")):
                check_int(value, name, 0, 0)
            check_int(efficiency_raw, "efficiency_per_mille", PER_MILLE, PER_MILLE)
            charge, efficiency, reserve, soc, price_down = 0, PER_MILLE, 0, 0, 0
        previous = self.keeper.get_flex(ctx.state, asset_id)
        if previous is not None:
            soc = min(previous.soc_wh, asset.energy_wh)  # the meter's, not the owner's
            if previous.zone != asset.zone_id:
                self.keeper.delete_flex(ctx.state, asset_id, previous.zone)
        flex = FlexAsset(asset.owner, asset.asset_type, asset.zone_id, asset.meter_id,
                         asset.energy_wh, charge, discharge, efficiency, reserve, soc, price_up,
                         price_down, priority)
        self.keeper.set_flex(ctx.state, asset_id, flex)
        ctx.emit("flex_offered", {"asset_id": asset_id, "zone": flex.zone,
                                  "type": flex.asset_type, "up_w": discharge,
                                  "down_w": charge, "price_up": price_up,
                                  "price_down": price_down, "priority": priority,
                                  "soc_wh": soc})

    def withdraw_flex(self, ctx: Context, args: list[Any]) -> None:
        (asset_raw,) = expect_args(args, 1, "asset_id")
        asset_id = check_int(asset_raw, "asset_id", 1, 2**63 - 1)
        flex = self.keeper.get_flex(ctx.state, asset_id)
        if flex is None or flex.owner != ctx.sender:
            raise NotAssetOwner(f"you offer no flexibility from asset {asset_id}")
        self.keeper.delete_flex(ctx.state, asset_id, flex.zone)
        ctx.emit("flex_withdrawn", {"asset_id": asset_id, "zone": flex.zone})

    # -- emergencies ----------------------------------------------------------------------

    def declare_emergency(self, ctx: Context, args: list[Any]) -> None:
        zone_raw, kind, severity, duration = expect_args(
            args, 4, "zone, kind, severity, duration_ms")
        zone = self.operated_zone(ctx, zone_raw, "declares its emergencies")
        if kind not in EMERGENCY_KINDS:
            raise BadEmergency(f"kind must be one of {', '.join(EMERGENCY_KINDS)}")
        if type(severity) is not int or not 1 <= severity <= MAX_SEVERITY:
            raise BadEmergency(f"severity must be 1..{MAX_SEVERITY}")
        if type(duration) is not int or not 1 <= duration <= MAX_EMERGENCY_MS:
            raise BadEmergency(f"duration_ms must be 1..{MAX_EMERGENCY_MS}")
        current = self.keeper.get_emergency(ctx.state, zone)
        step = rules.declare(current, kind, severity, ctx.time_ms, ctx.time_ms + duration,
                             ctx.sender)
        params = self.keeper.params(ctx.state)
        self.balancer.apply_emergency(ctx, params, zone, step, ctx.sender)

    def clear_emergency(self, ctx: Context, args: list[Any]) -> None:
        (zone_raw,) = expect_args(args, 1, "zone")
        zone = self.operated_zone(ctx, zone_raw, "clears its emergencies")
        if self.keeper.get_emergency(ctx.state, zone) is None:
            raise NoEmergency(f"zone {zone!r} is not in an emergency")
        params = self.keeper.params(ctx.state)
        self.balancer.apply_emergency(ctx, params, zone,
                                      rules.Transition(None, rules.CLEARED, "all-clear by the DSO"),
                                      ctx.sender)
