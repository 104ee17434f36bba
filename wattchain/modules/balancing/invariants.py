"""Invariants of the balancing module, checked in tests after every block.

* Bounds: floor <= ceiling.
* Records: energies are non-negative; the price rule is known and rule
  ``none`` carries price 0 (bounds may change after a record was priced, so
  its price is not checked against today's bounds); a scored record was
  forecast.
* Models: scored <= observed; forecasts ascend by interval, number at most
  ``horizon`` and are non-negative.
* Flexibility: state of charge and reserve within 0..energy capacity; the
  zone index lists exactly the offers.
* Dispatch: known actions, non-negative energy, delivered at most instructed,
  nothing paid for unpaid actions.
* Emergencies: a known kind and severity 1..3.
"""

from __future__ import annotations

from wattchain.modules.balancing.keeper import BalancingKeeper
from wattchain.modules.balancing.types import (
    ACTIONS,
    EMERGENCY_KINDS,
    MAX_SEVERITY,
    PAID_ACTIONS,
    RULE_NONE,
    RULES,
    DispatchRecord,
    IntervalRecord,
    ZoneModel,
)
from wattchain.vm.state import StateReader


def record_problems(zone: str, start: int, record: IntervalRecord) -> list[str]:
    where = f"balancing: record {zone}@{start}"
    problems = []
    if min(record.import_wh, record.export_wh, record.scheduled_wh) < 0:
        problems.append(f"{where} holds negative energy")
    if record.price_rule not in RULES:
        problems.append(f"{where} has unknown price rule {record.price_rule!r}")
    if record.price_rule == RULE_NONE and record.price != 0:
        problems.append(f"{where} is unpriced but carries price {record.price}")
    if record.ape_per_mille >= 0 and record.forecast_demand_wh < 0:
        problems.append(f"{where} is scored without a forecast")
    return problems


def model_problems(zone: str, model: ZoneModel, horizon: int) -> list[str]:
    where = f"balancing: model of {zone}"
    problems = []
    if not 0 <= model.scored <= model.observed:
        problems.append(f"{where} scored {model.scored} of {model.observed} observations")
    starts = [item.interval_start for item in model.forecasts]
    if starts != sorted(set(starts)) or len(starts) > horizon:
        problems.append(f"{where} has unordered or too many forecasts")
    if any(item.demand_wh < 0 or item.solar_wh < 0 for item in model.forecasts):
        problems.append(f"{where} forecasts negative energy")
    return problems


def dispatch_problems(zone: str, start: int, record: DispatchRecord) -> list[str]:
    where = f"balancing: dispatch {zone}@{start}"
    problems = []
    for item in record.items:
        if item.action not in ACTIONS or item.energy_wh <= 0:
            problems.append(f"{where} has a bad item {item.action} {item.energy_wh} Wh")
        if item.delivered_wh > item.energy_wh or item.paid < 0:
            problems.append(f"{where} delivered {item.delivered_wh} of {item.energy_wh} Wh")
        if item.paid and item.action not in PAID_ACTIONS:
            problems.append(f"{where} paid for an unpaid {item.action}")
    return problems


def flex_problems(keeper: BalancingKeeper, state: StateReader) -> list[str]:
    problems = []
    offers = dict(keeper.iterate_flex(state))
    for asset_id, flex in offers.items():
        if not 0 <= flex.soc_wh <= flex.energy_wh or not 0 <= flex.reserve_wh <= flex.energy_wh:
            problems.append(f"balancing: flex {asset_id} has state of charge {flex.soc_wh} or "
                            f"reserve {flex.reserve_wh} outside 0..{flex.energy_wh}")
    index = sorted((asset_id, zone) for zone, asset_id in keeper.iterate_flex_index(state))
    if index != sorted((asset_id, flex.zone) for asset_id, flex in offers.items()):
        problems.append("balancing: the zone index of flexibility offers is out of step")
    return problems


def check_all(keeper: BalancingKeeper, state: StateReader) -> list[str]:
    horizon = keeper.params(state).horizon
    problems = [f"balancing: bounds of {zone} have floor {floor} above ceiling {ceiling}"
                for zone, floor, ceiling in keeper.iterate_bounds(state) if floor > ceiling]
    for zone, start, record in keeper.iterate_records(state):
        problems += record_problems(zone, start, record)
    for zone, model in keeper.iterate_models(state):
        problems += model_problems(zone, model, horizon)
    for zone, start, dispatch in keeper.iterate_dispatches(state):
        problems += dispatch_problems(zone, start, dispatch)
    problems += flex_problems(keeper, state)
    problems += [f"balancing: emergency of {zone} is {item.kind} at severity {item.severity}"
                 for zone, item in keeper.iterate_emergencies(state)
                 if item.kind not in EMERGENCY_KINDS or not 1 <= item.severity <= MAX_SEVERITY]
    return problems
