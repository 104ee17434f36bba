"""`wattchain grid ...`: balancing per zone — status, forecast, resilience,
flexibility offers, dispatch, emergencies and imbalance bounds.

Energy in Wh, power in W; prices in micro-units per kWh; ratios in per-mille
(1000 = 100 %).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from wattchain.cli.client import RpcClient
from wattchain.cli.common import (
    DEFAULT_HOME,
    HomeOption,
    NodeOption,
    OutputOption,
    check_output,
    emit,
    handle_errors,
    kv_table,
    node_url,
)
from wattchain.cli.registration_views import table
from wattchain.cli.tx_cmd import FeeOption, FromOption, WaitOption, send

app = typer.Typer(help="Grid balancing: supply and demand per zone, forecasts, storage and "
                       "demand-response dispatch, emergencies, imbalance prices.",
                  no_args_is_help=True)
flex_app = typer.Typer(help="Storage and flexible loads offered for automated dispatch.",
                       no_args_is_help=True)
emergency_app = typer.Typer(help="Grid emergencies: declare, revise, clear, show the record.",
                            no_args_is_help=True)
app.add_typer(flex_app, name="flex")
app.add_typer(emergency_app, name="emergency")

Zone = Annotated[str, typer.Option("--zone", help="Zone id.")]


def records_table(title: str, columns: list[str], records: list[dict[str, Any]]) -> Table:
    """One row per record, the named fields as columns."""
    return table(title, columns, [[record[column] for column in columns] for record in records])


@app.command("status")
@handle_errors
def status(zone: Annotated[str | None, typer.Option(
               "--zone", help="One zone's record; without it, network-wide totals.")] = None,
           interval_start: Annotated[int | None, typer.Option(
               "--interval", help="Interval start (ms); default the newest.")] = None,
           home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
           output: OutputOption = "text") -> None:
    """Supply, demand, schedule, imbalance and price of the newest balanced interval."""
    check_output(output)
    with RpcClient(node_url(home, node)) as client:
        if zone is None:
            value = client.query("balancing/totals")
            emit(output, value, kv_table("network totals", value))
            return
        data: dict[str, Any] = {"zone": zone}
        if interval_start is not None:
            data["interval_start"] = interval_start
        value = client.query("balancing/zone_status", **data)
    emit(output, value, kv_table(f"zone {zone}", value))


@app.command("forecast")
@handle_errors
def forecast(zone: Zone, home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
             output: OutputOption = "text") -> None:
    """Demand and supply forecast of the next intervals, and the zone's forecast error."""
    check_output(output)
    with RpcClient(node_url(home, node)) as client:
        value = client.query("balancing/forecast", zone=zone)
        value["accuracy"] = client.query("balancing/accuracy", zone=zone)
    mape = value["accuracy"]["mape_per_mille"]
    emit(output, value, records_table(
        f"forecast of {zone} (MAPE {'-' if mape is None else mape} per-mille)",
        ["interval_start", "demand_wh", "solar_wh", "wind_wh", "firm_wh", "imbalance_wh"],
        value["forecasts"]))


@app.command("resilience")
@handle_errors
def resilience(zone: Zone, home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
               output: OutputOption = "text") -> None:
    """Reserve margin, hosting capacity used, storage available, islanding capability."""
    check_output(output)
    with RpcClient(node_url(home, node)) as client:
        value = client.query("balancing/resilience", zone=zone)
    emit(output, value, kv_table(f"resilience of {zone}", value))


@app.command("dispatch")
@handle_errors
def dispatch(zone: Zone, interval_start: Annotated[int | None, typer.Option(
                 "--interval", help="Interval start (ms); default the newest dispatched.")] = None,
             home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
             output: OutputOption = "text") -> None:
    """What balancing dispatched in an interval, what was delivered and paid."""
    check_output(output)
    data: dict[str, Any] = {"zone": zone}
    if interval_start is not None:
        data["interval_start"] = interval_start
    with RpcClient(node_url(home, node)) as client:
        value = client.query("balancing/dispatch", **data)
    title = (f"dispatch of {zone} at {value['interval_start']}: forecast imbalance "
             f"{value['forecast_imbalance_wh']} Wh, marginal price {value['marginal_price']}"
             + (f", emergency {value['emergency']}" if value["emergency"] else ""))
    emit(output, value, records_table(
        title, ["action", "asset_id", "peer", "energy_wh", "price", "delivered_wh", "paid"],
        value["items"]))


@flex_app.command("offer")
@handle_errors
def flex_offer(sender: FromOption,
               asset_id: Annotated[int, typer.Option("--asset", help="Your storage or "
                                                     "flexible-load asset id.")],
               discharge_w: Annotated[int, typer.Option(
                   "--up-w", help="Storage: max discharge power; a load: curtailable power.")],
               price_up: Annotated[int, typer.Option(
                   "--price-up", help="Asked per kWh discharged or curtailed.")],
               charge_w: Annotated[int, typer.Option(
                   "--down-w", help="Storage: max charge power (0 for a load).")] = 0,
               price_down: Annotated[int, typer.Option(
                   "--price-down", help="Storage: asked per kWh charged.")] = 0,
               efficiency: Annotated[int, typer.Option(
                   "--efficiency", help="Round-trip efficiency, per-mille.")] = 1_000,
               reserve_wh: Annotated[int, typer.Option(
                   "--reserve-wh", help="Storage: charge kept for emergencies.")] = 0,
               soc_wh: Annotated[int, typer.Option(
                   "--soc-wh", help="Storage: state of charge now (first offer only).")] = 0,
               priority: Annotated[int, typer.Option(
                   "--priority", help="Shedding class 0..9: higher is shed first, "
                                      "0 is critical.")] = 5,
               home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
               fee: FeeOption = None, wait: WaitOption = True,
               output: OutputOption = "text") -> None:
    """Offer (or revise) an asset's flexibility for automated dispatch."""
    send(home, node, sender, "balancing", "offer_flex",
         [asset_id, charge_w, discharge_w, efficiency, reserve_wh, soc_wh, price_up,
          price_down, priority], fee, wait, output)


@flex_app.command("withdraw")
@handle_errors
def flex_withdraw(sender: FromOption,
                  asset_id: Annotated[int, typer.Option("--asset", help="Asset id.")],
                  home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
                  fee: FeeOption = None, wait: WaitOption = True,
                  output: OutputOption = "text") -> None:
    """Stop offering an asset's flexibility."""
    send(home, node, sender, "balancing", "withdraw_flex", [asset_id], fee, wait, output)


@flex_app.command("list")
@handle_errors
def flex_list(zone: Annotated[str | None, typer.Option("--zone", help="Only this zone.")] = None,
              home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
              output: OutputOption = "text") -> None:
    """Flexibility offers with their state of charge."""
    check_output(output)
    with RpcClient(node_url(home, node)) as client:
        value = client.query("balancing/flex", **({} if zone is None else {"zone": zone}))
    emit(output, value, records_table(
        "flexibility offers", ["asset_id", "type", "zone", "max_discharge_w", "max_charge_w",
                               "soc_wh", "reserve_wh", "energy_wh", "price_up", "price_down",
                               "priority"], value["offers"]))


Kind = Annotated[str, typer.Option("--kind", help="shortage | overload | islanding")]


@emergency_app.command("declare")
@handle_errors
def emergency_declare(sender: FromOption, zone: Zone, kind: Kind,
                      severity: Annotated[int, typer.Option(
                          "--severity", help="1: market capped; 2-3: market suspended; "
                                             "3 also sheds critical loads.")] = 2,
                      duration_ms: Annotated[int, typer.Option(
                          "--duration-ms", help="Expires after this long.")] = 3_600_000,
                      home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
                      fee: FeeOption = None, wait: WaitOption = True,
                      output: OutputOption = "text") -> None:
    """Declare (or revise) an emergency in your zone (its DSO only)."""
    send(home, node, sender, "balancing", "declare_emergency",
         [zone, kind, severity, duration_ms], fee, wait, output)


@emergency_app.command("clear")
@handle_errors
def emergency_clear(sender: FromOption, zone: Zone, home: HomeOption = DEFAULT_HOME,
                    node: NodeOption = None, fee: FeeOption = None, wait: WaitOption = True,
                    output: OutputOption = "text") -> None:
    """The all-clear: normal operation and an open market again."""
    send(home, node, sender, "balancing", "clear_emergency", [zone], fee, wait, output)


@emergency_app.command("show")
@handle_errors
def emergency_show(zone: Annotated[str | None, typer.Option(
                       "--zone", help="One zone with its record; without it, every zone in "
                                      "an emergency.")] = None,
                   home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
                   output: OutputOption = "text") -> None:
    """The emergency in force, the market restriction and the zone's record."""
    check_output(output)
    with RpcClient(node_url(home, node)) as client:
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


@app.command("set-bounds")
@handle_errors
def set_bounds(sender: FromOption, zone: Zone,
               floor: Annotated[int, typer.Option(help="Lowest imbalance price.")],
               ceiling: Annotated[int, typer.Option(help="Highest imbalance price.")],
               home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
               fee: FeeOption = None, wait: WaitOption = True,
               output: OutputOption = "text") -> None:
    """Bound the zone's imbalance price (the zone's operator only)."""
    send(home, node, sender, "balancing", "set_imbalance_bounds", [zone, floor, ceiling], fee,
         wait, output)
