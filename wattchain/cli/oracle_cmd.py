"""`wattchain oracle ...`: feed values per (feed, zone, round) and the feeder.

Values are integers in each feed's unit: wholesale_price micro-units/kWh,
irradiance W/m2, wind_speed mm/s, temperature milli-degC, grid_frequency mHz,
emission_factor gCO2/kWh. Submitting needs the `oracle` role, granted by the
admin quorum (`wattchain tx grant-role --role oracle`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from wattchain.cli.client import RpcClient
from wattchain.cli.common import (
    DEFAULT_HOME,
    CliError,
    HomeOption,
    NodeOption,
    OutputOption,
    check_output,
    emit,
    handle_errors,
    kv_table,
    node_url,
)
from wattchain.cli.oracle_feeder import (
    Feeder,
    feed_rows,
    feed_simulated,
    parse_integer,
    read_csv,
    read_json,
)
from wattchain.cli.tx_cmd import FeeOption, FromOption, WaitOption, load_signer, send
from wattchain.modules.oracle.types import FEEDS

app = typer.Typer(help="Oracle feeds: wholesale price, weather, grid frequency, emissions.",
                  no_args_is_help=True)

Feed = Annotated[str, typer.Option("--feed", help=f"One of: {', '.join(FEEDS)}.")]
Zone = Annotated[str, typer.Option("--zone", help="Zone id the value is for.")]


def check_feed(feed: str) -> str:
    if feed not in FEEDS:
        raise CliError(f"--feed must be one of {', '.join(FEEDS)}")
    return feed


def chain_now(client: RpcClient) -> int:
    return int(client.call("status")["sync_info"]["latest_block_time_ms"])


def resolve_round(home: Path, node: str | None, text: str) -> int:
    if text != "now":
        return parse_integer(text, "--round")
    with RpcClient(node_url(home, node)) as client:
        return chain_now(client) // int(client.query("oracle/params")["round_ms"])


@app.command("submit")
@handle_errors
def submit(sender: FromOption, feed: Feed, zone: Zone,
           value: Annotated[str, typer.Option(help="Integer in the feed's unit.")],
           round_text: Annotated[str, typer.Option(
               "--round", help="Round index or `now` (the round of the latest block).")]
           = "now",
           home: HomeOption = DEFAULT_HOME, node: NodeOption = None, fee: FeeOption = None,
           wait: WaitOption = True, output: OutputOption = "text") -> None:
    """Submit one value for (feed, zone, round) as an oracle account."""
    check_feed(feed)
    number = parse_integer(value, "--value")
    round_index = resolve_round(home, node, round_text)
    send(home, node, sender, "oracle", "submit", [feed, zone, round_index, number], fee, wait,
         output)


@app.command("show")
@handle_errors
def show(feed: Feed, zone: Zone,
         round_index: Annotated[int | None, typer.Option(
             "--round", help="Show this round's submissions instead of the latest value.")]
         = None,
         home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
         output: OutputOption = "text") -> None:
    """The latest finalized value of a feed in a zone (with its age), or one round."""
    check_output(output)
    check_feed(feed)
    with RpcClient(node_url(home, node)) as client:
        if round_index is not None:
            value = client.query("oracle/round", feed=feed, zone=zone, round=round_index)
            emit(output, value, round_table(value))
            return
        value = client.query("oracle/feed", feed=feed, zone=zone, now_ms=chain_now(client))
    unit = FEEDS[feed].unit
    emit(output, value, kv_table(f"{feed} in {zone}", {
        "value": f"{value['value']} {unit}", "round": value["round"],
        "age": f"{value['age_ms'] / 1000:.1f} s", "finalized_ms": value["finalized_ms"]}))


def round_table(value: dict[str, Any]) -> Table:
    state = f"median {value['median']}" if value["finalized"] else "open"
    table = Table(title=f"{value['feed']} {value['zone']} round {value['round']}: {state}",
                  title_justify="left")
    for column in ("oracle", "value", "height"):
        table.add_column(column)
    for item in value["submissions"]:
        table.add_row(item["oracle"], str(item["value"]), str(item["height"]))
    return table


@app.command("list")
@handle_errors
def list_feeds(home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
               output: OutputOption = "text") -> None:
    """Every feed's latest value per zone, with units and ages."""
    check_output(output)
    with RpcClient(node_url(home, node)) as client:
        value = client.query("oracle/feeds", now_ms=chain_now(client))
    table = Table(title=f"{len(value['feeds'])} feed values", title_justify="left")
    for column in ("feed", "zone", "value", "unit", "round", "age"):
        table.add_column(column)
    for item in value["feeds"]:
        table.add_row(item["feed"], item["zone"], str(item["value"]), FEEDS[item["feed"]].unit,
                      str(item["round"]), f"{item['age_ms'] / 1000:.1f} s")
    emit(output, value, table)


@app.command("feed")
@handle_errors
def feed(sender: FromOption, zone: Zone,
         csv_file: Annotated[Path | None, typer.Option(
             "--csv", help="CSV with a header: feed,value and round or time_ms.")] = None,
         json_file: Annotated[Path | None, typer.Option(
             "--json", help="JSON list of {feed, value, round | time_ms}.")] = None,
         simulated: Annotated[bool, typer.Option(
             "--simulate", help="Generate every feed from a seeded simulated source.")]
         = False,
         seed: Annotated[int, typer.Option(help="Seed of the simulated source.")] = 1,
         interval: Annotated[float | None, typer.Option(
             help="Seconds between submissions (files; default 0) or between simulated "
                  "rounds (default: wait for the next round).")] = None,
         count: Annotated[int | None, typer.Option(
             help="Rows to submit (files; default all) or rounds to simulate (default 1).")]
         = None,
         progress: Annotated[bool, typer.Option("--progress/--no-progress")] = True,
         home: HomeOption = DEFAULT_HOME, node: NodeOption = None, fee: FeeOption = None,
         output: OutputOption = "text") -> None:
    """Run a feeder: submit values from a file or a simulated source, with progress."""
    check_output(output)
    if sum((csv_file is not None, json_file is not None, simulated)) != 1:
        raise CliError("give exactly one of --csv FILE, --json FILE or --simulate")
    if count is not None and count <= 0:
        raise CliError("--count must be positive")
    signer = load_signer(home, sender)
    started = time.perf_counter()
    with RpcClient(node_url(home, node)) as client:
        feeder = Feeder(client, signer, zone, fee)
        if simulated:
            feed_simulated(feeder, seed, count or 1, interval, progress)
        else:
            rows = read_csv(csv_file) if csv_file is not None else []
            rows += read_json(json_file) if json_file is not None else []
            feed_rows(feeder, rows[:count], interval or 0.0, progress)
    summary = {**feeder.summary, "seconds": round(time.perf_counter() - started, 3)}
    emit(output, summary, kv_table("oracle feed", {
        key: summary[key] for key in ("zone", "submitted", "accepted", "rejected", "rounds",
                                      "seconds")}))
    if summary["rejected"]:
        for item in summary["rejections"]:
            typer.echo(f"rejected {item['feed']} round {item['round']}: {item['log']}",
                       err=True)
