"""JSON views of balancing records, shared by queries and genesis export."""

from __future__ import annotations

from typing import Any

from wattchain.modules.balancing.types import Forecast, IntervalRecord, ZoneModel


def record_json(zone: str, interval_start: int, record: IntervalRecord) -> dict[str, Any]:
    return {"zone": zone, "interval_start": interval_start, "import_wh": record.import_wh,
            "export_wh": record.export_wh, "scheduled_wh": record.scheduled_wh,
            "imbalance_wh": record.imbalance_wh,
            "schedule_deviation_wh": record.schedule_deviation_wh,
            "forecast_demand_wh": record.forecast_demand_wh,
            "forecast_solar_wh": record.forecast_solar_wh,
            "ape_per_mille": record.ape_per_mille, "price": record.price,
            "price_rule": record.price_rule}


def forecast_json(item: Forecast) -> dict[str, int]:
    return {"interval_start": item.interval_start, "demand_wh": item.demand_wh,
            "solar_wh": item.solar_wh}


def model_json(zone: str, model: ZoneModel) -> dict[str, Any]:
    return {"zone": zone, "level": model.level, "offset": model.offset,
            "observed": model.observed, "has_offset": model.has_offset,
            "ape_sum": model.ape_sum, "scored": model.scored,
            "forecasts": [forecast_json(item) for item in model.forecasts]}
