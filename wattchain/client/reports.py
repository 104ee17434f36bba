"""Pure helpers of the tariff, bill and report commands (no I/O).

Tariff schedules are typed as hour ranges (``0-7:off-peak,7-24:day``);
reports are computed from query results with integers (the one ratio,
self-consumption, is reported as a decimal string rounded to 0.1 %).
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from wattchain.client.errors import ClientError
from wattchain.modules.metering.billing import compute_bill
from wattchain.modules.metering.bills import bill_json, tariff_from_json, trade_ids_of
from wattchain.modules.metering.tariffs import Tariff, band_at, tariff_in_force
from wattchain.modules.metering.types import BUYER, SELLER, TradeShare
from wattchain.modules.metering.views import energy_from_json


def parse_band(text: str) -> list[Any]:
    """NAME:IMPORT:EXPORT (prices in integer micro-units per kWh)."""
    parts = text.split(":")
    if len(parts) != 3 or not parts[1].strip().isdigit() or not parts[2].strip().isdigit():
        raise ClientError(f"--band {text!r}: write NAME:IMPORT_PRICE:EXPORT_PRICE in micro-units "
                       "per kWh, e.g. peak:400000:80000")
    return [parts[0].strip(), int(parts[1]), int(parts[2])]


def parse_schedule(text: str, bands: list[list[Any]], name: str) -> list[int]:
    """24 band indices from ``BAND`` or ``H-H:BAND,...`` covering hours 0-24 once."""
    names = [band[0] for band in bands]
    hours: list[int | None] = [None] * 24
    for part in text.split(","):
        span, _, band = part.strip().rpartition(":")
        if band not in names:
            raise ClientError(f"--{name}: unknown band {band!r} (bands: {', '.join(names)})")
        first, last = 0, 24
        if span:
            low, _, high = span.partition("-")
            if not (low.isdigit() and high.isdigit() and 0 <= int(low) < int(high) <= 24):
                raise ClientError(f"--{name}: {part!r} is not HOUR-HOUR:BAND with 0 <= from < "
                               "to <= 24")
            first, last = int(low), int(high)
        for hour in range(first, last):
            if hours[hour] is not None:
                raise ClientError(f"--{name}: hour {hour} is given twice")
            hours[hour] = names.index(band)
    missing = [hour for hour, band in enumerate(hours) if band is None]
    if missing:
        raise ClientError(f"--{name}: hours {missing} have no band")
    return [band for band in hours if band is not None]


def fetch_intervals(fetch: Any, start: int, end: int, **owner: Any) -> tuple[int, list[Any]]:
    """(interval ms, every interval record of an owner in [start, end)), paging the query."""
    records: list[Any] = []
    cursor = start
    while True:
        page = fetch("intervals", from_ms=cursor, to_ms=end, limit=10_000, **owner)
        records += page["intervals"]
        if not page["truncated"] or not page["intervals"]:
            return int(page["interval_ms"]), records
        cursor = page["intervals"][-1]["start_ms"] + 1


def fetch_trades(fetch: Any, account: str, start: int, end: int) -> list[Any]:
    """Every ``trading/trades`` record of an account with interval start in
    [start, end), halving the window while a page is truncated."""
    page = fetch("trades", account=account, from_ms=start, to_ms=end)
    if not page.get("truncated"):
        return list(page["trades"])
    if end - start <= 1:
        raise ClientError(f"too many trades of {account} in interval {start} to list")
    middle = (start + end) // 2
    return fetch_trades(fetch, account, start, middle) + fetch_trades(fetch, account,
                                                                      middle, end)


def trade_shares(trades: list[dict[str, Any]], account: str,
                 trade_ids: list[int]) -> list[TradeShare]:
    """The account's side of those ``trading/trades`` records that are settled and
    among ``trade_ids`` (a bill counts the trades settled when it was issued)."""
    shares = []
    for trade in trades:
        if not trade["settled"] or trade["trade_id"] not in trade_ids:
            continue
        for role in (BUYER, SELLER):
            if trade[role].lower() == account.lower():
                shares.append(TradeShare(trade["trade_id"], trade["interval_start"], role,
                                         trade["delivered_wh"], trade["paid"],
                                         trade["fee_paid"], trade["penalty"]))
    return shares


def recompute_bill(bill: dict[str, Any], intervals: list[dict[str, Any]],
                   tariff_versions: list[dict[str, Any]],
                   trades: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The bill as ``compute_bill`` makes it from query results, in the bill's JSON view.

    ``trades``: the account's ``trading/trades`` records of the period."""
    energy = [energy_from_json(record) for record in intervals]
    versions = [tariff_from_json(version) for version in tariff_versions]
    account = bytes.fromhex(bill["account"][2:])
    shares = trade_shares(trades or [], bill["account"], bill.get("p2p_trade_ids", []))
    fresh = compute_bill(bill["start_ms"], bill["end_ms"], energy, versions, shares)
    return bill_json(account, bill["start_ms"], bill["end_ms"],
                     [bill["zone_id"], bill["height"], fresh, trade_ids_of(shares),
                      bill.get("p2p_pending", 0)])


def band_name(versions: list[tuple[int, Tariff]], time_ms: int) -> str:
    version = tariff_in_force(versions, time_ms)
    return "" if version is None else str(version[1].bands[band_at(version[1], time_ms)][0])


def load_report(intervals: list[dict[str, Any]], interval_ms: int,
                tariff_versions: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-interval rows with their band, totals per band, and peak demand."""
    versions = [tariff_from_json(version) for version in tariff_versions]
    rows: list[dict[str, Any]] = []
    bands: dict[str, dict[str, Any]] = {}
    for record in intervals:
        band = band_name(versions, record["start_ms"])
        rows.append({"start_ms": record["start_ms"], "import_wh": record["import_wh"],
                     "export_wh": record["export_wh"],
                     "net_wh": record["import_wh"] - record["export_wh"], "band": band,
                     "estimated": record["estimated"]})
        totals = bands.setdefault(band, {"band": band, "import_wh": 0, "export_wh": 0})
        totals["import_wh"] += record["import_wh"]
        totals["export_wh"] += record["export_wh"]
    peak = max(rows, key=lambda row: row["import_wh"], default=None)
    return {
        "interval_ms": interval_ms, "intervals": rows, "bands": list(bands.values()),
        "import_wh": sum(row["import_wh"] for row in rows),
        "export_wh": sum(row["export_wh"] for row in rows),
        "estimated_intervals": sum(1 for row in rows if row["estimated"]),
        "peak_demand": None if peak is None else {
            "start_ms": peak["start_ms"], "import_wh": peak["import_wh"],
            "average_w": peak["import_wh"] * 3_600_000 // interval_ms},
    }


def self_consumption(production_wh: int, grid_export_wh: int) -> dict[str, Any]:
    """Of what the account's production meters generated, the share used on site."""
    used = max(production_wh - grid_export_wh, 0)
    ratio = Decimal(used * 1000 // production_wh) / 10 if production_wh else None
    return {"production_wh": production_wh, "self_consumed_wh": used,
            "self_consumption_pct": None if ratio is None else str(ratio)}


def report_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["start_ms", "import_wh", "export_wh", "net_wh", "band", "estimated"])
    for row in rows:
        writer.writerow([row["start_ms"], row["import_wh"], row["export_wh"], row["net_wh"],
                         row["band"], int(row["estimated"])])
    return out.getvalue()
