"""Genesis import and export of the balancing module.

Section shape (every field optional; export writes all of them)::

    {"params": {"horizon": 4, ...},
     "next_interval": null | <ms>,
     "bounds": [{"zone", "floor", "ceiling"}],
     "records": [{<the balancing/zone_status record view>}],
     "models": [{"zone", "level", "offset", "observed", "has_offset", "ape_sum",
                 "scored", "forecasts": [{"interval_start", "demand_wh", "solar_wh"}]}]}

Derived fields of a record view (imbalance_wh, schedule_deviation_wh) are
recomputed on import and must match. Export -> import is exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wattchain.errors import WattchainError
from wattchain.modules.balancing.invariants import check_all
from wattchain.modules.balancing.keeper import BalancingKeeper
from wattchain.modules.balancing.types import (
    RULES,
    BalancingParams,
    Forecast,
    IntervalRecord,
    ZoneModel,
)
from wattchain.modules.balancing.views import model_json, record_json
from wattchain.vm.state import Overlay, StateReader

MAX_INT = (1 << 63) - 1


class BalancingGenesisError(WattchainError):
    pass


def integer(item: Mapping[str, Any], name: str, low: int = 0, high: int = MAX_INT) -> int:
    value = item.get(name)
    if type(value) is not int or not low <= value <= high:
        raise BalancingGenesisError(f"balancing: {name} must be an integer in {low}..{high}")
    return value


def zone_of(item: Mapping[str, Any]) -> str:
    zone = item.get("zone")
    if type(zone) is not str or not zone or "\0" in zone:
        raise BalancingGenesisError(f"balancing: bad zone id {zone!r}")
    return zone


def params_from_json(data: Mapping[str, Any]) -> BalancingParams:
    defaults = BalancingParams().to_json()
    unknown = sorted(set(data) - set(defaults))
    if unknown:
        raise BalancingGenesisError(f"balancing: unknown params: {', '.join(unknown)}")
    merged = {**defaults, **data}
    params = BalancingParams(
        horizon=integer(merged, "horizon", 1, 96),
        alpha_per_mille=integer(merged, "alpha_per_mille", 0, 1_000),
        season_ms=integer(merged, "season_ms", 1),
        retain_ms=integer(merged, "retain_ms", 1),
        oracle_max_age_ms=integer(merged, "oracle_max_age_ms"),
        price_factor_per_mille=integer(merged, "price_factor_per_mille", 0, 1_000_000),
        max_catch_up=integer(merged, "max_catch_up", 1, 1_000))
    if params.retain_ms < params.season_ms:
        raise BalancingGenesisError("balancing: retain_ms must be at least season_ms")
    return params


def record_from_json(item: Mapping[str, Any]) -> tuple[str, int, IntervalRecord]:
    rule = item.get("price_rule")
    if rule not in RULES:
        raise BalancingGenesisError(f"balancing: unknown price rule {rule!r}")
    record = IntervalRecord(
        integer(item, "import_wh"), integer(item, "export_wh"), integer(item, "scheduled_wh"),
        integer(item, "forecast_demand_wh", -1), integer(item, "forecast_solar_wh", -1),
        integer(item, "ape_per_mille", -1), integer(item, "price", -MAX_INT), str(rule))
    zone, start = zone_of(item), integer(item, "interval_start")
    if record_json(zone, start, record) != dict(item):
        raise BalancingGenesisError(f"balancing: record {zone}@{start} does not match its "
                                    "derived fields")
    return zone, start, record


def model_from_json(item: Mapping[str, Any]) -> tuple[str, ZoneModel]:
    try:
        forecasts = [Forecast(integer(f, "interval_start"), integer(f, "demand_wh"),
                              integer(f, "solar_wh")) for f in item.get("forecasts", [])]
    except (AttributeError, TypeError) as exc:
        raise BalancingGenesisError(f"balancing: bad forecasts: {exc}") from None
    has_offset = item.get("has_offset")
    if type(has_offset) is not bool:
        raise BalancingGenesisError("balancing: has_offset must be a boolean")
    return zone_of(item), ZoneModel(
        integer(item, "level", -MAX_INT), integer(item, "offset", -MAX_INT),
        integer(item, "observed"), has_offset, integer(item, "ape_sum"),
        integer(item, "scored"), forecasts)


def init_genesis(keeper: BalancingKeeper, state: Overlay, section: Mapping[str, Any]) -> None:
    keeper.set_params(state, params_from_json(section.get("params", {})))
    if section.get("next_interval") is not None:
        keeper.set_next(state, integer(section, "next_interval"))
    for item in section.get("bounds", []):
        keeper.set_bounds(state, zone_of(item), integer(item, "floor", -MAX_INT),
                          integer(item, "ceiling", -MAX_INT))
    for item in section.get("records", []):
        keeper.set_record(state, *record_from_json(item))
    for item in section.get("models", []):
        keeper.set_model(state, *model_from_json(item))
    problems = check_all(keeper, state)
    if problems:
        raise BalancingGenesisError("; ".join(problems))


def export_genesis(keeper: BalancingKeeper, state: StateReader) -> dict[str, Any]:
    return {
        "params": keeper.get_params(state).to_json(),
        "next_interval": keeper.get_next(state),
        "bounds": [{"zone": zone, "floor": floor, "ceiling": ceiling}
                   for zone, floor, ceiling in keeper.iterate_bounds(state)],
        "records": [record_json(zone, start, record)
                    for zone, start, record in keeper.iterate_records(state)],
        "models": [model_json(zone, model) for zone, model in keeper.iterate_models(state)],
    }
