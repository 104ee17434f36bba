"""Resilience figures of a zone, computed each time one of its intervals is
recorded (integers; power in W, energy in Wh, ratios in per-mille).

* ``hosting_capacity_w``, ``connected_w``, ``hosting_used_per_mille``:
  connected nameplate against what the DSO allows (registration).
* ``storage_energy_wh``, ``storage_soc_wh``, ``storage_reserve_wh``,
  ``storage_available_wh`` (charge above the reserves) of its storage.
* ``flex_up_w`` (discharge + curtailable power) and ``flex_down_w`` (charge).
* ``peak_demand_w``: the highest forecast demand of the horizon as power;
  ``min_supply_w``: the lowest forecast supply of the horizon as power.
* ``reserve_margin_per_mille``: ``(min_supply_w + flex_up_w - peak_demand_w)
  x 1000 // peak_demand_w`` (-1000000 without a demand forecast).
* ``island_intervals``: forecast intervals, in order, the zone could run cut
  off from the grid — each deficit covered by curtailing flexible loads,
  then by storage within its discharge power and its whole charge (reserves
  released) — and ``islandable`` (1 when that is
  the whole horizon, else 0).
"""

from __future__ import annotations

from wattchain.modules.balancing.expected import GridRegistry
from wattchain.modules.balancing.flex import energy_of
from wattchain.modules.balancing.keeper import BalancingKeeper
from wattchain.modules.balancing.types import (
    MS_PER_HOUR,
    PER_MILLE,
    STORAGE,
    Forecast,
)
from wattchain.vm.interface import Context

NO_MARGIN = -1_000_000


def compute(ctx: Context, registry: GridRegistry, keeper: BalancingKeeper, zone: str,
            forecasts: list[Forecast]) -> dict[str, int]:
    state, interval_ms = ctx.state, ctx.params.interval_ms
    hosting, connected = registry.zone_hosting(state, zone) or (0, 0)
    figures = {"hosting_capacity_w": hosting, "connected_w": connected,
               "hosting_used_per_mille": connected * PER_MILLE // hosting if hosting else 0,
               "storage_energy_wh": 0, "storage_soc_wh": 0, "storage_reserve_wh": 0,
               "storage_available_wh": 0, "flex_up_w": 0, "flex_down_w": 0}
    discharge_w = curtail_w = 0
    for asset_id, flex in keeper.zone_flex(state, zone):
        if registry.active_capacity(state, asset_id, ctx.time_ms) <= 0:
            continue
        figures["flex_up_w"] += flex.max_discharge_w
        if flex.asset_type != STORAGE:
            curtail_w += flex.max_discharge_w
        else:
            discharge_w += flex.max_discharge_w
            figures["flex_down_w"] += flex.max_charge_w
            figures["storage_energy_wh"] += flex.energy_wh
            figures["storage_soc_wh"] += flex.soc_wh
            figures["storage_reserve_wh"] += flex.reserve_wh
            figures["storage_available_wh"] += max(0, flex.soc_wh - flex.reserve_wh)
    peak = max((item.demand_wh for item in forecasts), default=0)
    supply = min((item.supply_wh for item in forecasts), default=0)
    figures["peak_demand_w"] = peak * MS_PER_HOUR // interval_ms
    figures["min_supply_w"] = supply * MS_PER_HOUR // interval_ms
    demand_w = figures["peak_demand_w"]
    figures["reserve_margin_per_mille"] = NO_MARGIN if demand_w == 0 else (
        (figures["min_supply_w"] + figures["flex_up_w"] - demand_w) * PER_MILLE // demand_w)
    stored = figures["storage_soc_wh"]
    discharge_wh, curtail_wh = energy_of(discharge_w, interval_ms), energy_of(curtail_w,
                                                                                interval_ms)
    covered = 0
    for item in forecasts:
        from_storage = max(0, item.imbalance_wh - curtail_wh)
        if from_storage > min(stored, discharge_wh):
            break
        stored -= from_storage
        covered += 1
    figures["island_intervals"] = covered
    figures["islandable"] = int(bool(forecasts) and covered == len(forecasts))
    return figures
