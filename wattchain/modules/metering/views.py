"""JSON views of metering records, for queries and genesis export (and back)."""

from __future__ import annotations

from typing import Any

from wattchain.crypto import format_address, parse_address
from wattchain.modules.metering.types import IntervalEnergy, Meter, Reading


def meter_json(meter_id: str, meter: Meter) -> dict[str, Any]:
    return {
        "meter_id": meter_id, "type": meter.meter_type, "public_key": meter.public_key.hex(),
        "operator": format_address(meter.operator), "account": format_address(meter.account),
        "zone_id": meter.zone_id, "asset_id": meter.asset_id, "max_power_w": meter.max_power_w,
        "submeter": meter.submeter, "status": meter.status,
        "registered_height": meter.registered_height, "last_seq": meter.last_seq,
        "last_time_ms": meter.last_time_ms, "import_wh": meter.import_wh,
        "export_wh": meter.export_wh, "first_import_wh": meter.first_import_wh,
        "first_export_wh": meter.first_export_wh, "reading_count": meter.reading_count,
    }


def meter_from_json(data: dict[str, Any]) -> tuple[str, Meter]:
    return str(data["meter_id"]), Meter(
        data["type"], bytes.fromhex(data["public_key"]), parse_address(data["operator"]),
        parse_address(data["account"]), data["zone_id"], data["asset_id"],
        data["max_power_w"], data["submeter"], data["status"], data["registered_height"],
        data["last_seq"], data["last_time_ms"], data["import_wh"], data["export_wh"],
        data["first_import_wh"], data["first_export_wh"], data["reading_count"])


def reading_json(seq: int, reading: Reading) -> dict[str, Any]:
    return {"seq": seq, "time_ms": reading.time_ms, "import_wh": reading.import_wh,
            "export_wh": reading.export_wh, "power_w": reading.power_w,
            "voltage_mv": reading.voltage_mv}


def reading_from_json(data: dict[str, Any]) -> tuple[int, Reading]:
    return int(data["seq"]), Reading(data["time_ms"], data["import_wh"], data["export_wh"],
                                     data.get("power_w"), data.get("voltage_mv"))


def energy_json(start_ms: int, energy: IntervalEnergy) -> dict[str, Any]:
    return {"start_ms": start_ms, "import_wh": energy.import_wh,
            "export_wh": energy.export_wh, "estimated": energy.estimated > 0,
            "estimated_spans": energy.estimated}


def energy_from_json(data: dict[str, Any]) -> tuple[int, IntervalEnergy]:
    return int(data["start_ms"]), IntervalEnergy(data["import_wh"], data["export_wh"],
                                                 data["estimated_spans"])
