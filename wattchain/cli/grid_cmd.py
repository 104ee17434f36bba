"""`wattchain grid ...`: balancing per zone — status, forecast, resilience,
flexibility offers, dispatch, emergencies and imbalance bounds.

Energy in Wh, power in W; prices in micro-units per kWh; ratios in per-mille
(1000 = 100 %).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from wattchain.cli.command_table import Custom, Query, Send, add
from wattchain.cli.common import emit, kv_table, records_table
from wattchain.cli.context import connect
from wattchain.cli.params import READ, SENDER, Inputs, Param, option

app = typer.Typer(help="Grid balancing: supply and demand per zone, forecasts, storage and "
                       "demand-response dispatch, emergencies, imbalance prices.",
                  no_args_is_help=True)
flex_app = typer.Typer(help="Storage and flexible loads offered for automated dispatch.",
                       no_args_is_help=True)
emergency_app = typer.Typer(help="Grid emergencies: declare, revise, clear, show the record.",
                            no_args_is_help=True)
app.add_typer(flex_app, name="flex")
app.add_typer(emergency_app, name="emergency")

ZONE = option("zone", str, "Zone id.", flag="--zone")


def balancing(name: str, method: str, doc: str, params: tuple[Param, ...]) -> Send:
    return Send(name, "balancing", method, doc, params)


def status(zone: str | None, interval_start: int | None, home: Path, node: str | None,
           output: str) -> None:
    """Supply, demand, schedule, imbalance and price of the newest balanced interval."""
    with connect(home, node) as client:
        if zone is None:
            value = client.query("balancing/totals")
            emit(output, value, kv_table("network totals", value))
            return
        data: dict[str, Any] = {"zone": zone}
        if interval_start is not None:
            data["interval_start"] = interval_start
        value = client.query("balancing/zone_status", **data)
    emit(output, value, kv_table(f"zone {zone}", value))


def forecast(zone: str, home: Path, node: str | None, output: str) -> None:
    """Demand and supply forecast of the next intervals, and the zone's forecast error."""
    with connect(home, node) as client:
        value = client.query("balancing/forecast", zone=zone)
        value["accuracy"] = client.query("balancing/accuracy", zone=zone)
    mape = value["accuracy"]["mape_per_mille"]
    emit(output, value, records_table(
        f"forecast of {zone} (MAPE {'-' if mape is None else mape} per-mille)",
        ["interval_start", "demand_wh", "solar_wh", "wind_wh", "firm_wh", "imbalance_wh"],
        value["forecasts"]))


def dispatch_view(value: Any, inputs: Inputs) -> Any:
    title = (f"dispatch of {inputs['zone']} at {value['interval_start']}: forecast imbalance "
             f"{value['forecast_imbalance_wh']} Wh, marginal price {value['marginal_price']}"
             + (f", emergency {value['emergency']}" if value["emergency"] else ""))
    return records_table(
        title, ["action", "asset_id", "peer", "energy_wh", "price", "delivered_wh", "paid"],
        value["items"])


add(app, [
    Custom("status", status, (
        option("zone", str | None, "One zone's record; without it, network-wide totals.", None,
               flag="--zone"),
        option("interval_start", int | None, "Interval start (ms); default the newest.", None,
               flag="--interval")), READ),
    Custom("forecast", forecast, (ZONE,), READ),
    Query("resilience", "balancing/resilience", "Reserve margin, hosting capacity used, "
          "storage available, islanding capability.", (ZONE,),
          lambda value, inputs: kv_table(f"resilience of {inputs['zone']}", value)),
    Query("dispatch", "balancing/dispatch", "What balancing dispatched in an interval, what "
          "was delivered and paid.", (
              ZONE, option("interval_start", int | None, "Interval start (ms); default the "
                           "newest dispatched.", None, flag="--interval")), dispatch_view),
    balancing("set-bounds", "set_imbalance_bounds", "Bound the zone's imbalance price (the "
              "zone's operator only).", (
                  SENDER, ZONE, option("floor", int, "Lowest imbalance price."),
                  option("ceiling", int, "Highest imbalance price."))),
])

add(flex_app, [
    balancing("offer", "offer_flex", "Offer (or revise) an asset's flexibility for automated "
              "dispatch.", (
                  SENDER,
                  option("asset_id", int, "Your storage or flexible-load asset id.",
                         flag="--asset"),
                  option("discharge_w", int, "Storage: max discharge power; a load: "
                         "curtailable power.", flag="--up-w"),
                  option("price_up", int, "Asked per kWh discharged or curtailed.",
                         flag="--price-up"),
                  option("charge_w", int, "Storage: max charge power (0 for a load).", 0,
                         flag="--down-w"),
                  option("price_down", int, "Storage: asked per kWh charged.", 0,
                         flag="--price-down"),
                  option("efficiency", int, "Round-trip efficiency, per-mille.", 1_000,
                         flag="--efficiency"),
                  option("reserve_wh", int, "Storage: charge kept for emergencies.", 0,
                         flag="--reserve-wh"),
                  option("soc_wh", int, "Storage: state of charge now (first offer only).", 0,
                         flag="--soc-wh"),
                  option("priority", int, "Shedding class 0..9: higher is shed first, 0 is "
                         "critical.", 5, flag="--priority"))),
    balancing("withdraw", "withdraw_flex", "Stop offering an asset's flexibility.",
              (SENDER, option("asset_id", int, "Asset id.", flag="--asset"))),
    Query("list", "balancing/flex", "Flexibility offers with their state of charge.",
          (option("zone", str | None, "Only this zone.", None, flag="--zone"),),
          lambda value, inputs: records_table(
              "flexibility offers", ["asset_id", "type", "zone", "max_discharge_w",
                                     "max_charge_w", "soc_wh", "reserve_wh", "energy_wh",
                                     "price_up", "price_down", "priority"], value["offers"])),
])

add(emergency_app, [
    balancing("declare", "declare_emergency", "Declare (or revise) an emergency in your zone "
              "(its DSO only).", (
                  SENDER, ZONE, option("kind", str, "shortage | overload | islanding",
                                       flag="--kind"),
                  option("severity", int, "1: market capped; 2-3: market suspended; 3 also "
                         "sheds critical loads.", 2, flag="--severity"),
                  option("duration_ms", int, "Expires after this long.", 3_600_000,
                         flag="--duration-ms"))),
    balancing("clear", "clear_emergency", "The all-clear: normal operation and an open market "
              "again.", (SENDER, ZONE)),
])


def emergency_show(zone: str | None, home: Path, node: str | None, output: str) -> None:
    """The emergency in force, the market restriction and the zone's record."""
    with connect(home, node) as client:
        if zone is None:
            value = client.query("balancing/emergencies")
            emit(output, value)
            return
        value = client.query("balancing/emergency", zone=zone)
    current = value["emergency"]
    title = (f"zone {zone}: " + ("normal" if current is None else
             f"{current['kind']} severity {current['severity']} until {current['expiry_ms']}")
             + f", market {value['market']}")
    emit(output, value, records_table(
        title, ["seq", "action", "kind", "severity", "height", "time_ms", "by", "reason"],
        value["log"]))


add(emergency_app, [Custom("show", emergency_show, (option(
    "zone", str | None, "One zone with its record; without it, every zone in an emergency.",
    None, flag="--zone"),), READ)])
