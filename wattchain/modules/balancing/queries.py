"""Read-only queries (abci_query paths ``balancing/<name>``).

* ``params``.
* ``zone_status {zone, interval_start?}``: the zone's record of that interval
  (default: its newest), its bounds and its forecast accuracy.
* ``forecast {zone}``: the next ``horizon`` intervals' demand and solar.
* ``totals``: every zone's record of the newest processed interval, summed.
* ``accuracy {zone}``: MAPE in per-mille over the scored intervals.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wattchain.modules.balancing.errors import RecordNotFound
from wattchain.modules.balancing.keeper import BalancingKeeper
from wattchain.modules.balancing.views import forecast_json, record_json
from wattchain.vm.errors import InvalidQuery
from wattchain.vm.state import StateReader


def data_zone(data: Mapping[str, Any]) -> str:
    zone = data.get("zone")
    if type(zone) is not str or not zone:
        raise InvalidQuery("data.zone must be a zone id")
    return zone


class BalancingQueries:
    def __init__(self, keeper: BalancingKeeper) -> None:
        self.keeper = keeper

    def params(self, state: StateReader, data: Mapping[str, Any]) -> Any:
        return {**self.keeper.get_params(state).to_json(),
                "next_interval": self.keeper.get_next(state)}

    def zone_status(self, state: StateReader, data: Mapping[str, Any]) -> Any:
        zone = data_zone(data)
        start = data.get("interval_start")
        if start is not None and (type(start) is not int or start < 0):
            raise InvalidQuery("data.interval_start must be a non-negative integer")
        if start is None:
            newest = None
            for _, newest_start, _ in self.keeper.iterate_records(state, zone):
                newest = newest_start
            start = newest
        record = None if start is None else self.keeper.get_record(state, zone, start)
        if start is None or record is None:
            raise RecordNotFound(f"no balancing record for zone {zone!r}"
                                 + ("" if start is None else f" at {start}"))
        bounds = self.keeper.get_bounds(state, zone)
        return {**record_json(zone, start, record),
                "bounds": None if bounds is None else {"floor": bounds[0],
                                                       "ceiling": bounds[1]},
                "mape_per_mille": self.keeper.get_model(state, zone).mape_per_mille}

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
        return {"interval_start": newest, "zones": len(latest), **sums}
