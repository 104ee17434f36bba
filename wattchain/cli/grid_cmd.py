"""`wattchain grid ...`: balancing per zone — status, forecast, imbalance bounds.

Energy in Wh; prices in micro-units per kWh; errors in per-mille (1000 = 100 %).
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
from wattchain.cli.tx_cmd import FeeOption, FromOption, WaitOption, send

app = typer.Typer(help="Grid balancing: supply and demand per zone, forecasts, imbalance "
                       "prices.", no_args_is_help=True)

Zone = Annotated[str, typer.Option("--zone", help="Zone id.")]


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
    """Demand and solar forecast of the next intervals, and the zone's forecast error."""
    check_output(output)
    with RpcClient(node_url(home, node)) as client:
        value = client.query("balancing/forecast", zone=zone)
        value["accuracy"] = client.query("balancing/accuracy", zone=zone)
    mape = value["accuracy"]["mape_per_mille"]
    table = Table(title=f"forecast of {zone} (MAPE {'-' if mape is None else mape} per-mille)",
                  title_justify="left")
    for column in ("interval_start", "demand_wh", "solar_wh"):
        table.add_column(column)
    for item in value["forecasts"]:
        table.add_row(str(item["interval_start"]), str(item["demand_wh"]),
                      str(item["solar_wh"]))
    emit(output, value, table)


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
