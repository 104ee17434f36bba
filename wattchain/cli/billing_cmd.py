"""`wattchain tariff|bill|report ...`: time-of-use tariffs, bills, consumption reports.

Prices are integer micro-units of the settlement token per kWh, energy Wh,
times ms of block time (or dates and ISO times, converted exactly).
`bill verify` trusts no node's verdict: it recomputes the bill locally with
the module's pure ``compute_bill`` from the intervals, tariffs and the
account's settled trades (those the bill lists) on chain.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from wattchain.cli.command_table import Custom, Query, Send, add
from wattchain.cli.common import CliError, console, emit, kv_table, table
from wattchain.cli.context import address_text, fetch, latest_time_ms
from wattchain.cli.params import READ, SENDER, Inputs, Param, address_field, address_of, option
from wattchain.cli.registration_views import format_time, parse_time_ms
from wattchain.client.reports import (
    fetch_intervals,
    fetch_trades,
    load_report,
    parse_band,
    parse_schedule,
    recompute_bill,
    report_csv,
    self_consumption,
)
from wattchain.modules.metering.tariffs import DAY_MS

tariff_app = typer.Typer(help="Time-of-use tariffs per zone (dso).", no_args_is_help=True)
bill_app = typer.Typer(help="Bills per account and period, recomputable by anyone.",
                       no_args_is_help=True)
report_app = typer.Typer(help="Consumption reports per account and zone load profiles.",
                         no_args_is_help=True)

ZONE_ID = Param("zone_id", Annotated[str, typer.Argument(help="Zone id.")])
ACCOUNT = option("account", str, "Key name or 0x address.", flag="--account")
WINDOW = (option("start", str, "Period start: date, ISO time or ms.", flag="--start"),
          option("end", str, "Period end (exclusive), likewise.", flag="--end"))
PERIOD = (ACCOUNT, *WINDOW)
CSV = option("csv_file", Path | None, "Also write the intervals to this CSV file.", None,
             flag="--csv")


class Metering:
    """The ``metering/`` and ``trading/`` queries of one command run."""

    def __init__(self, home: Path, node: str | None) -> None:
        self.home, self.node = home, node

    def __call__(self, path: str, **data: Any) -> Any:
        return fetch(self.home, self.node, "metering/" + path, **data)

    def trading(self, path: str, **data: Any) -> Any:
        return fetch(self.home, self.node, "trading/" + path, **data)

    def versions(self, zone_id: str) -> list[dict[str, Any]]:
        versions: list[dict[str, Any]] = self("tariffs", zone_id=zone_id)["versions"]
        return versions


def next_boundary(home: Path, node: str | None, margin_ms: int = 3_000) -> int:
    """The first interval start at least ``margin_ms`` after the latest block."""
    interval_ms = int(Metering(home, node)("params")["interval_ms"])
    earliest = latest_time_ms(home, node) + margin_ms
    return -(-earliest // interval_ms) * interval_ms


def tariff_args(inputs: Inputs) -> list[Any]:
    bands = [parse_band(text) for text in inputs["band"]]
    first = bands[0][0] if bands else ""
    weekday, weekend, holiday = inputs["weekday"], inputs["weekend"], inputs["holiday"]
    weekday_hours = parse_schedule(weekday or first, bands, "weekday")
    weekend_hours = parse_schedule(weekend, bands, "weekend") if weekend else weekday_hours
    holiday_hours = parse_schedule(holiday, bands, "holiday") if holiday else weekend_hours
    try:
        days = [int(day) for day in inputs["weekend_days"].split(",") if day.strip()]
    except ValueError:
        raise CliError("--weekend-days must be comma-separated weekday numbers") from None
    dates = sorted(parse_time_ms(day, "holidays") // DAY_MS
                   for day in inputs["holidays"].split(",") if day.strip())
    effective_from = inputs["effective_from"]
    start = next_boundary(inputs["home"], inputs["node"]) if effective_from == "next" else \
        parse_time_ms(effective_from, "effective-from")
    inputs["start"] = start  # for print_effective
    return [inputs["zone_id"], start, inputs["utc_offset_minutes"], days, dates, bands,
            [weekday_hours, weekend_hours, holiday_hours], inputs["standing_charge"]]


def print_effective(answer: Any, inputs: Inputs) -> None:
    if inputs["output"] == "text" and answer is not None:
        console.print(f"effective from {inputs['start']} ({format_time(inputs['start'])})")


def versions_table(value: Any, inputs: Inputs) -> Any:
    rows = []
    for version in value["versions"]:
        bands = ", ".join(f"{name} {imp}/{exp}" for name, imp, exp in version["bands"])
        rows.append([format_time(version["effective_from_ms"]), version["utc_offset_minutes"],
                     bands, version["standing_charge"]])
    return table(f"tariffs of {inputs['zone_id']} (import/export micro-units per kWh)",
                 ["effective from", "UTC offset min", "bands", "standing/day"], rows)


add(tariff_app, [
    Send("set", "metering", "set_tariff", "Set a new tariff version of a zone, effective in "
         "the future (the zone's DSO).", (
             ZONE_ID, SENDER,
             option("effective_from", str, "Date, ISO time, ms, or `next` (the next interval "
                    "start)."),
             option("band", list[str], "NAME:IMPORT:EXPORT in micro-units per kWh; repeat, up "
                    "to 8."),
             option("weekday", str | None, "Hours to bands, e.g. 0-7:night,7-24:day (default: "
                    "the first band all day).", None),
             option("weekend", str | None, "Likewise (default: as weekdays).", None),
             option("holiday", str | None, "Likewise (default: as weekends).", None),
             option("weekend_days", str, "Local weekdays, Monday 0 .. Sunday 6.", "5,6"),
             option("holidays", str, "Local dates, e.g. 2026-12-25,2026-12-26.", ""),
             option("utc_offset_minutes", int, "The zone's local time.", 0),
             option("standing_charge", int, "Micro-units per day.", 0)),
         args=tariff_args, after=print_effective),
    Query("list", "metering/tariffs", "Every tariff version of a zone, oldest first.",
          (ZONE_ID,), versions_table),
])


def tariff_show(zone_id: str, at: str | None, home: Path, node: str | None,
                output: str) -> None:
    """The tariff in force in a zone at a time, and the band then."""
    time_ms = parse_time_ms(at, "at") if at is not None else latest_time_ms(home, node)
    metering = Metering(home, node)
    versions = metering.versions(zone_id)
    in_force = [v for v in versions if v["effective_from_ms"] <= time_ms]
    if not in_force:
        raise CliError(f"no tariff of zone {zone_id!r} is in force at {format_time(time_ms)}"
                       + (f"; the next starts {format_time(versions[0]['effective_from_ms'])}"
                          if versions else ""))
    value = {**in_force[-1], "band_now": metering("band", zone_id=zone_id, time_ms=time_ms)}
    emit(output, value, kv_table(f"tariff of {zone_id} at {format_time(time_ms)}", value))


add(tariff_app, [Custom("show", tariff_show, (
    ZONE_ID, option("at", str | None, "Time (default: the latest block).", None)), READ)])


# -- bills -----------------------------------------------------------------------------


def period(inputs: Inputs) -> dict[str, Any]:
    return {"account": address_text(inputs["home"], inputs["account"]),
            "start_ms": parse_time_ms(inputs["start"], "start"),
            "end_ms": parse_time_ms(inputs["end"], "end")}


def bill_table(bill: dict[str, Any], inputs: Inputs) -> Any:
    pending = bill.get("p2p_pending", 0)
    return table(f"bill of {bill['account']} {format_time(bill['start_ms'])} .. "
                 f"{format_time(bill['end_ms'])}: total {bill['total']}"
                 + (f" ({pending} trades of the period not yet settled: not on it)"
                    if pending else ""),
                 ["kind", "band", "quantity", "unit price", "amount"],
                 [[line["kind"], line["band"], line["quantity"], line["unit_price"],
                   line["amount"]] for line in bill["lines"]])


def issue_args(inputs: Inputs) -> list[Any]:
    window = period(inputs)
    return [address_of(inputs["account"], inputs), window["start_ms"], window["end_ms"]]


add(bill_app, [
    Send("issue", "metering", "issue_bill", "Bill an ended period of an account (the account, "
         "its zone's DSO, its grid meter's operator or an admin).", (SENDER, *PERIOD),
         args=issue_args),
    Query("show", "metering/bill", "A stored bill and its line items.", PERIOD, bill_table,
          data=period),
    Query("list", "metering/bills", "Every bill of an account.",
          (option("account", str, "Key name or 0x address.", flag="--account",
                  convert=address_field),),
          lambda value, inputs: table(
              f"bills of {value['account']}", ["start", "end", "import Wh", "export Wh",
                                               "total"],
              [[format_time(b["start_ms"]), format_time(b["end_ms"]), b["import_wh"],
                b["export_wh"], b["total"]] for b in value["bills"]])),
])


def bill_verify(account: str, start: str, end: str, home: Path, node: str | None,
                output: str) -> None:
    """Recompute a bill here from on-chain intervals and tariffs; exit 1 on mismatch."""
    metering = Metering(home, node)
    stored = metering("bill", **period({"home": home, "account": account, "start": start,
                                        "end": end}))
    _, intervals = fetch_intervals(metering, stored["start_ms"], stored["end_ms"],
                                   account=stored["account"])
    versions = metering.versions(stored["zone_id"])
    trades = fetch_trades(metering.trading, stored["account"], stored["start_ms"],
                          stored["end_ms"]) if stored["p2p_trade_ids"] else []
    fresh = recompute_bill(stored, intervals, versions, trades)
    matches = fresh == stored
    value = {"matches": matches, "stored_total": stored["total"],
             "recomputed_total": fresh["total"], "intervals": len(intervals),
             "trades": len(stored["p2p_trade_ids"]), "recomputed": fresh}
    emit(output, value, f"[bold green]match[/]: total {stored['total']} recomputed from "
         f"{len(intervals)} intervals and {value['trades']} trades" if matches else
         f"[bold red]mismatch[/]: stored total {stored['total']}, recomputed {fresh['total']}")
    if not matches:
        raise typer.Exit(1)


add(bill_app, [Custom("verify", bill_verify, PERIOD, READ)])


# -- reports ---------------------------------------------------------------------------


def emit_report(output: str, value: dict[str, Any], title: str, csv_file: Path | None) -> None:
    if csv_file is not None:
        csv_file.write_text(report_csv(value["intervals"]))
    peak = value["peak_demand"]
    rows = {name: value[name] for name in ("import_wh", "export_wh", "estimated_intervals")}
    if peak:
        rows["peak demand"] = f"{peak['average_w']} W at {format_time(peak['start_ms'])}"
    if "self_consumption_pct" in value and value["self_consumption_pct"] is not None:
        rows["self-consumption"] = f"{value['self_consumption_pct']} % of " \
                                   f"{value['production_wh']} Wh produced"
    for band in value["bands"]:
        rows[f"band {band['band'] or '(no tariff)'}"] = \
            f"{band['import_wh']} Wh in, {band['export_wh']} Wh out"
    emit(output, value, [kv_table(title, rows), table(
        "intervals", ["start", "import Wh", "export Wh", "band", "est."],
        [[format_time(r["start_ms"]), r["import_wh"], r["export_wh"], r["band"],
          "yes" if r["estimated"] else ""] for r in value["intervals"]])])


def report_account(who: str, start: str, end: str, csv_file: Path | None, home: Path,
                   node: str | None, output: str) -> None:
    """An account's grid exchange per interval and band, its peak demand, and the
    self-consumption ratio of its production meters."""
    window = period({"home": home, "account": who, "start": start, "end": end})
    query = Metering(home, node)
    interval_ms, intervals = fetch_intervals(query, window["start_ms"], window["end_ms"],
                                             account=window["account"])
    meters = query("meters", account=window["account"])["meters"]
    zone = next((m["zone_id"] for m in meters if not m["submeter"]), None)
    versions = query.versions(zone) if zone else []
    value = {"account": window["account"], "zone_id": zone, "start_ms": window["start_ms"],
             "end_ms": window["end_ms"], **load_report(intervals, interval_ms, versions)}
    production = 0
    for meter in meters:
        if meter["type"] == "production":
            production += sum(r["export_wh"] for r in fetch_intervals(
                query, window["start_ms"], window["end_ms"], meter_id=meter["meter_id"])[1])
    if production:
        value.update(self_consumption(production, value["export_wh"]))
    emit_report(output, value, f"account {window['account']}", csv_file)


def report_zone(zone_id: str, start: str, end: str, csv_file: Path | None, home: Path,
                node: str | None, output: str) -> None:
    """A zone's load profile: grid import, export and net per interval, and its peak."""
    begin, finish = parse_time_ms(start, "start"), parse_time_ms(end, "end")
    query = Metering(home, node)
    interval_ms, intervals = fetch_intervals(query, begin, finish, zone_id=zone_id)
    value = {"zone_id": zone_id, "start_ms": begin, "end_ms": finish,
             **load_report(intervals, interval_ms, query.versions(zone_id))}
    emit_report(output, value, f"zone {zone_id}", csv_file)


add(report_app, [
    Custom("account", report_account, (
        Param("who", Annotated[str, typer.Argument(help="Key name or 0x address.")]), *WINDOW,
        CSV), READ),
    Custom("zone", report_zone, (ZONE_ID, *WINDOW, CSV), READ),
])
