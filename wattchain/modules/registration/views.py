"""JSON views of registration records, for queries and genesis export.

Addresses are ``0x`` hex, hashes ``0x`` hex, everything else as stored.
``*_from_json`` are the inverses used by genesis import; they check shapes
only (``genesis`` checks the values).
"""

from __future__ import annotations

from typing import Any

from wattchain.crypto import format_address, parse_address
from wattchain.modules.registration.types import (
    Approval,
    Asset,
    Attestation,
    Certification,
    Equipment,
    HistoryEntry,
    Producer,
    Zone,
)


def zone_json(zone_id: str, zone: Zone) -> dict[str, Any]:
    return {"zone_id": zone_id, "name": zone.name,
            "hosting_capacity_w": zone.hosting_capacity_w,
            "operator": format_address(zone.operator), "connected_w": zone.connected_w}


def producer_json(address: bytes, producer: Producer) -> dict[str, Any]:
    return {"address": format_address(address), "name": producer.name, "kind": producer.kind,
            "contact_uri": producer.contact_uri, "metadata": producer.metadata,
            "registered_height": producer.registered_height,
            "registered_time_ms": producer.registered_time_ms}


def producer_from_json(data: dict[str, Any]) -> tuple[bytes, Producer]:
    return parse_address(str(data["address"])), Producer(
        data["name"], data["kind"], data["contact_uri"], data["metadata"],
        data["registered_height"], data["registered_time_ms"])


def equipment_json(equipment: Equipment) -> dict[str, Any]:
    return {"manufacturer": equipment.manufacturer, "model": equipment.model,
            "serial": equipment.serial, "inverter_model": equipment.inverter_model,
            "unit_count": equipment.unit_count}


def attestation_json(attestation: Attestation | None) -> dict[str, Any] | None:
    if attestation is None:
        return None
    return {"certifier": format_address(attestation.certifier),
            "evidence_hash": "0x" + attestation.evidence_hash.hex(),
            "revision": attestation.revision, "height": attestation.height,
            "time_ms": attestation.time_ms}


def approval_json(approval: Approval | None) -> dict[str, Any] | None:
    if approval is None:
        return None
    return {"dso": format_address(approval.dso), "revision": approval.revision,
            "height": approval.height, "time_ms": approval.time_ms}


def asset_json(asset_id: int, asset: Asset) -> dict[str, Any]:
    return {
        "asset_id": asset_id, "owner": format_address(asset.owner), "type": asset.asset_type,
        "capacity_w": asset.capacity_w, "energy_wh": asset.energy_wh, "zone_id": asset.zone_id,
        "connection_point": asset.connection_point, "latitude_micro": asset.latitude_micro,
        "longitude_micro": asset.longitude_micro, "commissioned_ms": asset.commissioned_ms,
        "equipment": equipment_json(asset.equipment), "meter_id": asset.meter_id,
        "status": asset.status, "revision": asset.revision,
        "attestation": attestation_json(asset.attestation),
        "approval": approval_json(asset.approval),
    }


def _hex(text: Any) -> bytes:
    return bytes.fromhex(str(text).removeprefix("0x"))


def asset_from_json(data: dict[str, Any], history_length: int,
                    certification_count: int) -> tuple[int, Asset]:
    equipment = data["equipment"]
    attestation = data.get("attestation")
    approval = data.get("approval")
    asset = Asset(
        parse_address(str(data["owner"])), data["type"], data["capacity_w"], data["energy_wh"],
        data["zone_id"], data["connection_point"], data["latitude_micro"],
        data["longitude_micro"], data["commissioned_ms"],
        Equipment(equipment["manufacturer"], equipment["model"], equipment["serial"],
                  equipment["inverter_model"], equipment["unit_count"]),
        data["meter_id"], data["status"], data["revision"],
        None if attestation is None else Attestation(
            parse_address(str(attestation["certifier"])), _hex(attestation["evidence_hash"]),
            attestation["revision"], attestation["height"], attestation["time_ms"]),
        None if approval is None else Approval(
            parse_address(str(approval["dso"])), approval["revision"], approval["height"],
            approval["time_ms"]),
        history_length, certification_count)
    return data["asset_id"], asset


def history_json(entry: HistoryEntry) -> dict[str, Any]:
    return {"height": entry.height, "time_ms": entry.time_ms, "status": entry.status,
            "actor": format_address(entry.actor), "reason": entry.reason}


def history_from_json(data: dict[str, Any]) -> HistoryEntry:
    return HistoryEntry(data["height"], data["time_ms"], data["status"],
                        parse_address(str(data["actor"])), data["reason"])


def certification_json(certification: Certification) -> dict[str, Any]:
    return {"scheme": certification.scheme, "certificate_id": certification.certificate_id,
            "certifier": format_address(certification.certifier),
            "valid_from_ms": certification.valid_from_ms,
            "valid_to_ms": certification.valid_to_ms, "height": certification.height}


def certification_from_json(data: dict[str, Any]) -> Certification:
    return Certification(data["scheme"], data["certificate_id"],
                         parse_address(str(data["certifier"])), data["valid_from_ms"],
                         data["valid_to_ms"], data["height"])
