"""Genesis import and export of the balancing module.

Section shape (every field optional; export writes all of them)::

    {"params": {"horizon": 4, ...},
     "next_interval": null | <ms>,
     "bounds": [{"zone", "floor", "ceiling"}],
     "records": [{<the balancing/zone_status record view>}],
     "models": [{"zone", "level", "offset", "observed", "has_offset", "ape_sum",
                 "scored", "forecasts": [{"interval_start", "demand_wh", "solar_wh",
                                          "wind_wh", "firm_wh", ...}]}],
     "next_dispatch": null | <ms>,
     "flex": [{<the balancing/flex view>}],
     "dispatches": [{<the balancing/dispatch view>}],
     "emergencies": [{"zone", <the emergency view>}],
     "log": [{"zone", <an emergency log entry view>}],
     "resilience": [{"zone", <the resilience figures>}]}

Derived fields of a view (imbalance_wh, schedule_deviation_wh, supply_wh,
up_wh, ...) are recomputed on import and must match. Export -> import is
exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wattchain.modules.balancing import views
from wattchain.modules.balancing.errors import BalancingGenesisError
from wattchain.modules.balancing.invariants import check_all
from wattchain.modules.balancing.keeper import BalancingKeeper
from wattchain.modules.balancing.types import (
    ACTIONS,
    EMERGENCY_KINDS,
    FLEX_TYPES,
    RULES,
    BalancingParams,
    DispatchItem,
    DispatchRecord,
    Emergency,
    FlexAsset,
    Forecast,
    IntervalRecord,
    LogEntry,
    ZoneModel,
)
from wattchain.vm.fields import MAX_INT, GenesisFields
from wattchain.vm.state import Overlay, StateReader

FIELDS = GenesisFields(BalancingGenesisError, "balancing: ")
integer, text, zone_of = FIELDS.integer, FIELDS.text, FIELDS.zone
PARAM_RANGES = {"horizon": (1, 96), "alpha_per_mille": (0, 1_000), "season_ms": (1, MAX_INT),
                "retain_ms": (1, MAX_INT), "price_factor_per_mille": (0, 1_000_000),
                "max_catch_up": (1, 1_000), "firm_per_mille": (0, 1_000),
                "auto_emergency_ms": (1, MAX_INT)}


def params_from_json(data: Mapping[str, Any]) -> BalancingParams:
    params = FIELDS.params(data, BalancingParams, BalancingParams().to_json(), PARAM_RANGES)
    if params.frequency_low_mhz > params.frequency_high_mhz:
        raise BalancingGenesisError("balancing: frequency_low_mhz is above frequency_high_mhz")
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
        integer(item, "ape_per_mille", -1), integer(item, "price", -MAX_INT), str(rule),
        integer(item, "forecast_wind_wh", -1))
    zone, start = zone_of(item), integer(item, "interval_start")
    if views.record_json(zone, start, record) != dict(item):
        raise BalancingGenesisError(f"balancing: record {zone}@{start} does not match its "
                                    "derived fields")
    return zone, start, record


def model_from_json(item: Mapping[str, Any]) -> tuple[str, ZoneModel]:
    try:
        forecasts = [Forecast(integer(f, "interval_start"), integer(f, "demand_wh"),
                              integer(f, "solar_wh"), integer(f, "wind_wh"),
                              integer(f, "firm_wh")) for f in item.get("forecasts", [])]
        given = [dict(f) for f in item.get("forecasts", [])]
    except (AttributeError, TypeError, ValueError) as exc:
        raise BalancingGenesisError(f"balancing: bad forecasts: {exc}") from None
    if [views.forecast_json(f) for f in forecasts] != given:
        raise BalancingGenesisError("balancing: forecasts do not match their derived fields")
    has_offset = FIELDS.boolean(item, "has_offset")
    return zone_of(item), ZoneModel(
        integer(item, "level", -MAX_INT), integer(item, "offset", -MAX_INT),
        integer(item, "observed"), has_offset, integer(item, "ape_sum"),
        integer(item, "scored"), forecasts)


def flex_from_json(item: Mapping[str, Any]) -> tuple[int, FlexAsset]:
    asset_id = integer(item, "asset_id", 1)
    flex = FlexAsset(FIELDS.address(item, "owner"), text(item, "type", FLEX_TYPES), zone_of(item),
                     text(item, "meter_id"), integer(item, "energy_wh"),
                     integer(item, "max_charge_w"), integer(item, "max_discharge_w"),
                     integer(item, "efficiency_per_mille", 1, 1_000),
                     integer(item, "reserve_wh"), integer(item, "soc_wh"),
                     integer(item, "price_up"), integer(item, "price_down"),
                     integer(item, "priority", 0, 9))
    if views.flex_json(asset_id, flex) != dict(item):
        raise BalancingGenesisError(f"balancing: flex offer {asset_id} has unknown fields")
    return asset_id, flex


def dispatch_from_json(item: Mapping[str, Any]) -> tuple[str, int, DispatchRecord]:
    zone, start = zone_of(item), integer(item, "interval_start")
    emergency = text(item, "emergency", ("", *EMERGENCY_KINDS))
    try:
        items = [DispatchItem(text(i, "action", ACTIONS), integer(i, "asset_id"),
                              integer(i, "energy_wh"), integer(i, "price"), text(i, "peer"),
                              integer(i, "delivered_wh", -1), integer(i, "paid"))
                 for i in item.get("items", [])]
    except (AttributeError, TypeError) as exc:
        raise BalancingGenesisError(f"balancing: bad dispatch items: {exc}") from None
    settled = FIELDS.boolean(item, "settled")
    record = DispatchRecord(integer(item, "forecast_imbalance_wh", -MAX_INT), emergency, items,
                            integer(item, "marginal_price", -1), settled)
    if views.dispatch_json(zone, start, record) != dict(item):
        raise BalancingGenesisError(f"balancing: dispatch {zone}@{start} does not match its "
                                    "derived fields")
    return zone, start, record


def emergency_from_json(item: Mapping[str, Any]) -> tuple[str, Emergency]:
    emergency = Emergency(text(item, "kind", EMERGENCY_KINDS), integer(item, "severity", 1, 3),
                          integer(item, "declared_ms"), integer(item, "expiry_ms"),
                          FIELDS.address(item, "declared_by", allow_automatic=True))
    zone = zone_of(item)
    if {"zone": zone, **(views.emergency_json(emergency) or {})} != dict(item):
        raise BalancingGenesisError(f"balancing: emergency of {zone} has unknown fields")
    return zone, emergency


def log_from_json(keeper: BalancingKeeper, state: Overlay, item: Mapping[str, Any]) -> None:
    zone = zone_of(item)
    entry = LogEntry(text(item, "action"), text(item, "kind"), integer(item, "severity", 0, 3),
                     integer(item, "height"), integer(item, "time_ms"),
                     FIELDS.address(item, "by", allow_automatic=True), integer(item, "expiry_ms"),
                     text(item, "reason"))
    seq = keeper.append_log(state, zone, entry)
    if {"zone": zone, **views.log_json(seq, entry)} != dict(item):
        raise BalancingGenesisError(f"balancing: log entry {zone}#{seq} is out of order or "
                                    "has unknown fields")


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
    if section.get("next_dispatch") is not None:
        keeper.set_next_dispatch(state, integer(section, "next_dispatch"))
    for item in section.get("flex", []):
        keeper.set_flex(state, *flex_from_json(item))
    for item in section.get("dispatches", []):
        keeper.set_dispatch(state, *dispatch_from_json(item))
    for item in section.get("emergencies", []):
        zone, emergency = emergency_from_json(item)
        keeper.set_emergency(state, zone, emergency)
    for item in section.get("log", []):
        log_from_json(keeper, state, item)
    for item in section.get("resilience", []):
        figures = {name: value for name, value in dict(item).items() if name != "zone"}
        if any(type(value) is not int for value in figures.values()):
            raise BalancingGenesisError("balancing: resilience figures must be integers")
        keeper.set_resilience(state, zone_of(item), figures)
    problems = check_all(keeper, state)
    if problems:
        raise BalancingGenesisError("; ".join(problems))


def export_genesis(keeper: BalancingKeeper, state: StateReader) -> dict[str, Any]:
    return {
        "params": keeper.params(state).to_json(),
        "next_interval": keeper.get_next(state),
        "bounds": [{"zone": zone, "floor": floor, "ceiling": ceiling}
                   for zone, floor, ceiling in keeper.iterate_bounds(state)],
        "records": [views.record_json(zone, start, record)
                    for zone, start, record in keeper.iterate_records(state)],
        "models": [views.model_json(zone, model) for zone, model in keeper.iterate_models(state)],
        "next_dispatch": keeper.get_next_dispatch(state),
        "flex": [views.flex_json(asset_id, flex) for asset_id, flex in keeper.iterate_flex(state)],
        "dispatches": [views.dispatch_json(zone, start, record)
                       for zone, start, record in keeper.iterate_dispatches(state)],
        "emergencies": [{"zone": zone, **(views.emergency_json(item) or {})}
                        for zone, item in keeper.iterate_emergencies(state)],
        "log": [{"zone": zone, **views.log_json(seq, entry)}
                for zone, seq, entry in keeper.log(state)],
        "resilience": [{"zone": zone, **figures}
                       for zone, figures in keeper.iterate_resilience(state)],
    }
