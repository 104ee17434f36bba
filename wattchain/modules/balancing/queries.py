"""Read-only queries (abci_query paths ``balancing/<name>``).

* ``params``.
* ``zone_status {zone, interval_start?}``: the zone's record of that interval
  (default: its newest), its bounds and its forecast accuracy.
* ``forecast {zone}``: the next ``horizon`` intervals' demand and solar.
* ``totals``: every zone's record of the newest processed interval, summed.
* ``accuracy {zone}``: MAPE in per-mille over the scored intervals.
* ``flex {zone? | asset_id?}``: flexibility offers (state of charge included).
* ``dispatch {zone, interval_start?}``: what was dispatched (default newest).
* ``emergency {zone}``: the emergency in force (or null), the market
  restriction it implies and the zone's log; ``emergencies``: every zone in
  one.
* ``resilience {zone}``: figures of the newest recorded interval.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from wattchain.modules.balancing import emergency as rules
from wattchain.modules.balancing.errors import RecordNotFound
from wattchain.modules.balancing.keeper import BalancingKeeper
from wattchain.modules.balancing.views import (
    dispatch_json,
    emergency_json,
    flex_json,
    forecast_json,
    log_json,
    record_json,
)
from wattchain.vm.fields import query_optional_int, query_text
from wattchain.vm.state import StateReader


def data_zone(data: Mapping[str, Any]) -> str:
    return query_text(data, "zone", message="data.zone must be a zone id")


def newest_start(entries: Iterable[tuple[str, int, Any]]) -> int | None:
    """The newest interval start of (zone, start, record) entries in time order."""
    newest = None
    for _, start, _ in entries:
        newest = start
    return newest


class BalancingQueries:
    def __init__(self, keeper: BalancingKeeper) -> None:
        self.keeper = keeper

    def params(self, state: StateReader, data: Mapping[str, Any]) -> Any:
        return {**self.keeper.params(state).to_json(),
                "next_interval": self.keeper.get_next(state)}

    def zone_status(self, state: StateReader, data: Mapping[str, Any]) -> Any:
        zone = data_zone(data)
        start = query_optional_int(data, "interval_start")
        if start is None:
            start = newest_start(self.keeper.iterate_records(state, zone))
        record = None if start is None else self.keeper.get_record(state, zone, start)
        if start is None or record is None:
            raise RecordNotFound(f"no balancing record for zone {zone!r}"
                                 + ("" if start is None else f" at {start}"))
        bounds = self.keeper.get_bounds(state, zone)
        dispatch = self.keeper.get_dispatch(state, zone, start)
        return {**record_json(zone, start, record),
                "bounds": None if bounds is None else {"floor": bounds[0],
                                                       "ceiling": bounds[1]},
                "mape_per_mille": self.keeper.get_model(state, zone).mape_per_mille,
                "flex_up_wh": 0 if dispatch is None else dispatch.up_wh,
                "flex_down_wh": 0 if dispatch is None else dispatch.down_wh,
                "emergency": emergency_json(self.keeper.get_emergency(state, zone)),
                "resilience": self.keeper.get_resilience(state, zone)}

    def forecast(self, state: StateReader, data: Mapping[str, Any]) -> Any:
        zone = data_zone(data)
        model = self.keeper.get_model(state, zone)
        return {"zone": zone, "forecasts": [forecast_json(item) for item in model.forecasts]}

    def accuracy(self, state: StateReader, data: Mapping[str, Any]) -> Any:
        zone = data_zone(data)
        model = self.keeper.get_model(state, zone)
        return {"zone": zone, "mape_per_mille": model.mape_per_mille, "scored": model.scored,
                "observed": model.observed}

    def totals(self, state: StateReader, data: Mapping[str, Any]) -> Any:
        """Network-wide sums over the newest interval on record."""
        records = list(self.keeper.iterate_records(state))
        if not records:
            raise RecordNotFound("no interval has been balanced yet")
        newest = max(start for _, start, _ in records)
        latest = [(zone, record) for zone, start, record in records if start == newest]
        sums = {name: sum(getattr(record, name) for _, record in latest)
                for name in ("import_wh", "export_wh", "scheduled_wh", "imbalance_wh")}
        dispatches = [self.keeper.get_dispatch(state, zone, newest) for zone, _ in latest]
        storage = [flex for _, flex in self.keeper.iterate_flex(state)
                   if flex.asset_type == "storage"]
        return {"interval_start": newest, "zones": len(latest), **sums,
                "flex_up_wh": sum(d.up_wh for d in dispatches if d is not None),
                "flex_down_wh": sum(d.down_wh for d in dispatches if d is not None),
                "storage_soc_wh": sum(flex.soc_wh for flex in storage),
                "storage_energy_wh": sum(flex.energy_wh for flex in storage),
                "emergencies": sum(1 for _ in self.keeper.iterate_emergencies(state))}

    def flex(self, state: StateReader, data: Mapping[str, Any]) -> Any:
        asset_id = query_optional_int(data, "asset_id", low=1)
        if asset_id is not None:
            flex = self.keeper.get_flex(state, asset_id)
            if flex is None:
                raise RecordNotFound(f"asset {asset_id} offers no flexibility")
            return flex_json(asset_id, flex)
        if data.get("zone") is not None:
            offers = self.keeper.zone_flex(state, data_zone(data))
        else:
            offers = list(self.keeper.iterate_flex(state))
        return {"offers": [flex_json(asset_id, flex) for asset_id, flex in offers]}

    def dispatch(self, state: StateReader, data: Mapping[str, Any]) -> Any:
        zone = data_zone(data)
        start = query_optional_int(data, "interval_start")
        if start is None:
            start = newest_start(self.keeper.iterate_dispatches(state, zone))
            if start is None:
                raise RecordNotFound(f"nothing was dispatched in zone {zone!r} yet")
        found = self.keeper.get_dispatch(state, zone, start)
        if found is None:
            raise RecordNotFound(f"no dispatch for zone {zone!r} at {start}")
        return dispatch_json(zone, start, found)

    def emergency(self, state: StateReader, data: Mapping[str, Any]) -> Any:
        zone = data_zone(data)
        current = self.keeper.get_emergency(state, zone)
        mode, cap = rules.market_effect(current, self.keeper.get_bounds(state, zone),
                                        self.keeper.params(state))
        return {"zone": zone, "emergency": emergency_json(current),
                "market": ("open", "capped", "suspended")[mode], "price_cap": cap,
                "log": [log_json(seq, entry) for _, seq, entry in self.keeper.log(state, zone)]}

    def emergencies(self, state: StateReader, data: Mapping[str, Any]) -> Any:
        return {"emergencies": [{"zone": zone, **(emergency_json(item) or {})}
                                for zone, item in self.keeper.iterate_emergencies(state)]}

    def resilience(self, state: StateReader, data: Mapping[str, Any]) -> Any:
        zone = data_zone(data)
        figures = self.keeper.get_resilience(state, zone)
        if figures is None:
            raise RecordNotFound(f"no interval of zone {zone!r} has been recorded yet")
        return {"zone": zone, **figures}
