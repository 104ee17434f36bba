"""The one tx method of the balancing module.

``set_imbalance_bounds [zone, floor, ceiling]`` (the zone's operator, its
DSO): the bounds of the zone's imbalance price in micro-units per kWh,
``floor <= ceiling``. From the next processed interval on, balancing sets the
zone's imbalance price inside them (``pricing``).
"""

from __future__ import annotations

from typing import Any

from wattchain.modules.balancing.errors import BadBounds, NotZoneOperator, UnknownZone
from wattchain.modules.balancing.keeper import BalancingKeeper
from wattchain.modules.balancing.types import GridRegistry
from wattchain.vm.errors import InvalidArgs
from wattchain.vm.interface import Context, expect_args

MAX_PRICE = 10**12


def check_price(value: Any, name: str) -> int:
    if type(value) is not int or not -MAX_PRICE <= value <= MAX_PRICE:
        raise InvalidArgs(f"{name} must be an integer in -{MAX_PRICE}..{MAX_PRICE} "
                          "micro-units/kWh")
    return value


class BalancingHandlers:
    def __init__(self, keeper: BalancingKeeper, registry: GridRegistry) -> None:
        self.keeper = keeper
        self.registry = registry

    def set_imbalance_bounds(self, ctx: Context, args: list[Any]) -> None:
        zone, floor_raw, ceiling_raw = expect_args(args, 3, "zone, floor, ceiling")
        if type(zone) is not str:
            raise InvalidArgs("zone must be a zone id")
        operator = self.registry.zone_operator(ctx.state, zone)
        if operator is None:
            raise UnknownZone(f"no zone {zone!r} is registered")
        if operator != ctx.sender:
            raise NotZoneOperator(f"only the operator of zone {zone!r} sets its bounds")
        floor, ceiling = check_price(floor_raw, "floor"), check_price(ceiling_raw, "ceiling")
        if floor > ceiling:
            raise BadBounds(f"floor {floor} is above ceiling {ceiling}")
        self.keeper.set_bounds(ctx.state, zone, floor, ceiling)
        ctx.emit("imbalance_bounds", {"zone": zone, "floor": floor, "ceiling": ceiling})
