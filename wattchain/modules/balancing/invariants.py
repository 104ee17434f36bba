"""Invariants of the balancing module, checked in tests after every block.

* Bounds: floor <= ceiling.
* Records: energies are non-negative; the price rule is known and rule
  ``none`` carries price 0 (bounds may change after a record was priced, so
  its price is not checked against today's bounds); a scored record was
  forecast.
* Models: scored <= observed; forecasts ascend by interval, number at most
  ``horizon`` and are non-negative.
"""

from __future__ import annotations

from wattchain.modules.balancing.keeper import BalancingKeeper
from wattchain.modules.balancing.types import RULE_NONE, RULES, IntervalRecord, ZoneModel
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


def check_all(keeper: BalancingKeeper, state: StateReader) -> list[str]:
    horizon = keeper.get_params(state).horizon
    problems = [f"balancing: bounds of {zone} have floor {floor} above ceiling {ceiling}"
                for zone, floor, ceiling in keeper.iterate_bounds(state) if floor > ceiling]
    for zone, start, record in keeper.iterate_records(state):
        problems += record_problems(zone, start, record)
    for zone, model in keeper.iterate_models(state):
        problems += model_problems(zone, model, horizon)
    return problems
