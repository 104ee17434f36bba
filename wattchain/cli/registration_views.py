"""Parsing and text views for the registration commands (no I/O).

Users type degrees, dates and key names; the chain wants micro-degrees,
ms of block time and addresses. Conversions use Decimal and integer
arithmetic only, so what is signed is exactly what was typed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from rich.table import Table

from wattchain.cli.common import CliError, table

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MICRO = 1_000_000


def parse_degrees(text: str, name: str, bound: int) -> int:
    """Decimal degrees (at most 6 decimals) -> integer micro-degrees."""
    try:
        micro = Decimal(text.strip()) * MICRO
    except InvalidOperation:
        raise CliError(f"--{name} must be decimal degrees, e.g. 52.520008") from None
    if micro != micro.to_integral_value():
        raise CliError(f"--{name} has more than 6 decimals (micro-degree precision)")
    if abs(micro) > bound * MICRO:
        raise CliError(f"--{name} must be within ±{bound} degrees")
    return int(micro)


def parse_time_ms(text: str, name: str) -> int:
    """ms since the epoch, a date (2026-01-01, midnight UTC) or an ISO 8601 time."""
    value = text.strip()
    if value.isdigit():
        return int(value)
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CliError(f"--{name} must be ms since the epoch, a date like 2026-01-01 or a "
                       "time like 2026-01-01T12:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return (moment - EPOCH) // dt.timedelta(milliseconds=1)


def format_time(ms: int) -> str:
    moment = EPOCH + dt.timedelta(milliseconds=ms)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def format_degrees(micro: int) -> str:
    return str(Decimal(micro) / MICRO)


def event_attribute(answer: Any, kind: str, key: str) -> str | None:
    """An attribute of the first ``kind`` event in a committed tx's answer."""
    result = answer.get("tx_result") if isinstance(answer, dict) else None
    for event in (result or {}).get("events", []):
        if event.get("kind") == kind:
            value = event.get("attributes", {}).get(key)
            return None if value is None else str(value)
    return None


def asset_rows(asset: dict[str, Any]) -> dict[str, str]:
    equipment = asset["equipment"]
    rows = {
        "asset": str(asset["asset_id"]), "owner": asset["owner"], "type": asset["type"],
        "status": f"{asset['status']} (revision {asset['revision']})",
        "capacity": f"{asset['capacity_w']} W"
        + (f", {asset['energy_wh']} Wh" if asset["energy_wh"] else ""),
        "zone": f"{asset['zone_id']} at {asset['connection_point']}",
        "location": f"{format_degrees(asset['latitude_micro'])}, "
                    f"{format_degrees(asset['longitude_micro'])}",
        "commissioned": format_time(asset["commissioned_ms"]),
        "equipment": f"{equipment['unit_count']} x {equipment['manufacturer']} "
                     f"{equipment['model']}, serial {equipment['serial']}"
                     + (f", inverter {equipment['inverter_model']}"
                        if equipment["inverter_model"] else ""),
        "meter": asset["meter_id"] or "-",
    }
    attestation, approval = asset.get("attestation"), asset.get("approval")
    if attestation:
        rows["attested"] = (f"by {attestation['certifier']} at height {attestation['height']}"
                            f", evidence {attestation['evidence_hash']}")
    if approval:
        rows["approved"] = f"by {approval['dso']} at height {approval['height']}"
    for index, item in enumerate(asset.get("certifications", [])):
        rows[f"certification {index}"] = (
            f"{item['scheme']} {item['certificate_id']} by {item['certifier']}, "
            f"{format_time(item['valid_from_ms'])} to {format_time(item['valid_to_ms'])}")
    if "renewable" in asset:
        rows["now"] = (f"{asset['active_capacity_w']} W active, "
                       f"{'renewable' if asset['renewable'] else 'not renewable'}")
    return rows


def history_table(asset_id: int, history: list[dict[str, Any]]) -> Table:
    return table(f"history of asset {asset_id}", ["height", "time", "status", "by", "reason"],
                 [[h["height"], format_time(h["time_ms"]), h["status"], h["actor"],
                   h["reason"]] for h in history])


def assets_table(assets: list[dict[str, Any]]) -> Table:
    return table(f"{len(assets)} assets",
                 ["id", "type", "W", "zone", "status", "owner", "serial"],
                 [[a["asset_id"], a["type"], a["capacity_w"], a["zone_id"], a["status"],
                   a["owner"], a["equipment"]["serial"]] for a in assets])


def capacity_table(zones: list[dict[str, Any]]) -> Table:
    rows = []
    for zone in zones:
        rows.append([zone["zone_id"], "all", zone["hosting_capacity_w"], zone["connected_w"],
                     zone["active_w"], ""])
        for kind, row in zone["by_type"].items():
            rows.append(["", kind, "", row["connected_w"], row["active_w"], row["pending_w"]])
    return table("capacity by zone and type (W)",
                 ["zone", "type", "hosting", "connected", "active", "pending"], rows)
