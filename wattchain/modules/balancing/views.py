"""JSON views of balancing records, shared by queries and genesis export."""

from __future__ import annotations

from typing import Any

from wattchain.modules.balancing import types


def record_json(zone: str, interval_start: int, record: types.IntervalRecord) -> dict[str, Any]:
    return {"zone": zone, "interval_start": interval_start, "import_wh": record.import_wh,
            "export_wh": record.export_wh, "scheduled_wh": record.scheduled_wh,
            "imbalance_wh": record.imbalance_wh,
            "schedule_deviation_wh": record.schedule_deviation_wh,
            "forecast_demand_wh": record.forecast_demand_wh,
            "forecast_solar_wh": record.forecast_solar_wh,
            "forecast_wind_wh": record.forecast_wind_wh,
            "ape_per_mille": record.ape_per_mille, "price": record.price,
            "price_rule": record.price_rule}


def forecast_json(item: types.Forecast) -> dict[str, int]:
    return {"interval_start": item.interval_start, "demand_wh": item.demand_wh,
            "solar_wh": item.solar_wh, "wind_wh": item.wind_wh, "firm_wh": item.firm_wh,
            "supply_wh": item.supply_wh, "imbalance_wh": item.imbalance_wh}


def model_json(zone: str, model: types.ZoneModel) -> dict[str, Any]:
    return {"zone": zone, "level": model.level, "offset": model.offset,
            "observed": model.observed, "has_offset": model.has_offset,
            "ape_sum": model.ape_sum, "scored": model.scored,
            "forecasts": [forecast_json(item) for item in model.forecasts]}


def flex_json(asset_id: int, flex: types.FlexAsset) -> dict[str, Any]:
    return {"asset_id": asset_id, "owner": "0x" + flex.owner.hex(), "type": flex.asset_type,
            "zone": flex.zone, "meter_id": flex.meter_id, "energy_wh": flex.energy_wh,
            "max_charge_w": flex.max_charge_w, "max_discharge_w": flex.max_discharge_w,
            "efficiency_per_mille": flex.efficiency_per_mille, "reserve_wh": flex.reserve_wh,
            "soc_wh": flex.soc_wh, "price_up": flex.price_up, "price_down": flex.price_down,
            "priority": flex.priority}


def item_json(item: types.DispatchItem) -> dict[str, Any]:
    return {"action": item.action, "asset_id": item.target, "peer": item.peer,
            "energy_wh": item.energy_wh, "price": item.price,
            "delivered_wh": item.delivered_wh, "paid": item.paid}


def dispatch_json(zone: str, interval_start: int, record: types.DispatchRecord) -> dict[str, Any]:
    return {"zone": zone, "interval_start": interval_start,
            "forecast_imbalance_wh": record.forecast_imbalance_wh,
            "emergency": record.emergency, "up_wh": record.up_wh, "down_wh": record.down_wh,
            "marginal_price": record.marginal_price, "settled": record.settled,
            "items": [item_json(item) for item in record.items]}


def emergency_json(emergency: types.Emergency | None) -> dict[str, Any] | None:
    if emergency is None:
        return None
    return {"kind": emergency.kind, "severity": emergency.severity,
            "declared_ms": emergency.declared_ms, "expiry_ms": emergency.expiry_ms,
            "declared_by": "0x" + emergency.declared_by.hex() if emergency.declared_by
            else "automatic"}


def log_json(seq: int, entry: types.LogEntry) -> dict[str, Any]:
    return {"seq": seq, "action": entry.action, "kind": entry.kind,
            "severity": entry.severity, "height": entry.height, "time_ms": entry.time_ms,
            "by": "0x" + entry.by.hex() if entry.by else "automatic",
            "expiry_ms": entry.expiry_ms, "reason": entry.reason}
