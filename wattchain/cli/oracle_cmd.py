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

from wattchain.cli.command_table import Custom, Query, Send, add, chain_now
from wattchain.cli.common import CliError, emit, kv_table, progress_bar, table
from wattchain.cli.context import connect, load_signer
from wattchain.cli.params import READ, RELAY, SENDER, Inputs, Param, option
from wattchain.client import OracleFeeder, read_csv, read_json
from wattchain.client.oracle_feeder import parse_integer
from wattchain.modules.oracle.types import FEEDS

app = typer.Typer(help="Oracle feeds: wholesale price, weather, grid frequency, emissions.",
                  no_args_is_help=True)

FEED = Param("feed", Annotated[str, typer.Option("--feed", help=f"One of: {', '.join(FEEDS)}.")])
ZONE = Param("zone", Annotated[str, typer.Option("--zone", help="Zone id the value is for.")])


def check_feed(feed: str) -> str:
    if feed not in FEEDS:
        raise CliError(f"--feed must be one of {', '.join(FEEDS)}")
    return feed


def submit_args(inputs: Inputs) -> list[Any]:
    feed = check_feed(inputs["feed"])
    number = parse_integer(inputs["value"], "--value")
    round_text = inputs["round_text"]
    if round_text != "now":
        round_index = parse_integer(round_text, "--round")
    else:
        with connect(inputs["home"], inputs["node"]) as client:
            round_index = client.latest_time_ms() // int(
                client.query("oracle/params")["round_ms"])
    return [feed, inputs["zone"], round_index, number]


def feeds_table(value: Any, inputs: Inputs) -> Any:
    return table(f"{len(value['feeds'])} feed values",
                 ["feed", "zone", "value", "unit", "round", "age"],
                 [[item["feed"], item["zone"], item["value"], FEEDS[item["feed"]].unit,
                   item["round"], f"{item['age_ms'] / 1000:.1f} s"] for item in value["feeds"]])


def show(feed: str, zone: str, round_index: int | None, home: Path, node: str | None,
         output: str) -> None:
    """The latest finalized value of a feed in a zone (with its age), or one round."""
    check_feed(feed)
    with connect(home, node) as client:
        if round_index is not None:
            value = client.query("oracle/round", feed=feed, zone=zone, round=round_index)
            emit(output, value, round_table(value))
            return
        value = client.query("oracle/feed", feed=feed, zone=zone, **chain_now(client))
    unit = FEEDS[feed].unit
    emit(output, value, kv_table(f"{feed} in {zone}", {
        "value": f"{value['value']} {unit}", "round": value["round"],
        "age": f"{value['age_ms'] / 1000:.1f} s", "finalized_ms": value["finalized_ms"]}))


def round_table(value: dict[str, Any]) -> Any:
    state = f"median {value['median']}" if value["finalized"] else "open"
    return table(f"{value['feed']} {value['zone']} round {value['round']}: {state}",
                 ["oracle", "value", "height"],
                 [[item["oracle"], item["value"], item["height"]]
                  for item in value["submissions"]])


def feed(sender: str, zone: str, csv_file: Path | None, json_file: Path | None,
         simulated: bool, seed: int, interval: float | None, count: int | None,
         progress: bool, home: Path, node: str | None, fee: int | None, output: str) -> None:
    """Run a feeder: submit values from a file or a simulated source, with progress."""
    if sum((csv_file is not None, json_file is not None, simulated)) != 1:
        raise CliError("give exactly one of --csv FILE, --json FILE or --simulate")
    if count is not None and count <= 0:
        raise CliError("--count must be positive")
    signer = load_signer(home, sender)
    started = time.perf_counter()
    with connect(home, node) as client, progress_bar(progress) as bar:
        feeder = OracleFeeder(client, signer, zone, fee)
        if simulated:
            task = bar.add_task(f"oracle feed {zone} (seed {seed})",
                                total=(count or 1) * len(FEEDS))
            feeder.feed_simulated(seed, count or 1, interval, lambda: bar.advance(task))
        else:
            rows = read_csv(csv_file) if csv_file is not None else []
            rows += read_json(json_file) if json_file is not None else []
            task = bar.add_task(f"oracle feed {zone}", total=len(rows[:count]))
            feeder.feed(rows[:count], interval or 0.0, lambda: bar.advance(task))
    summary = {**feeder.summary, "seconds": round(time.perf_counter() - started, 3)}
    emit(output, summary, kv_table("oracle feed", {
        key: summary[key] for key in ("zone", "submitted", "accepted", "rejected", "rounds",
                                      "seconds")}))
    if summary["rejected"]:
        for item in summary["rejections"]:
            typer.echo(f"rejected {item['feed']} round {item['round']}: {item['log']}",
                       err=True)


add(app, [
    Send("submit", "oracle", "submit", "Submit one value for (feed, zone, round) as an oracle "
         "account.", (
             SENDER, FEED, ZONE, option("value", str, "Integer in the feed's unit."),
             option("round_text", str, "Round index or `now` (the round of the latest "
                    "block).", "now", flag="--round")), args=submit_args),
    Custom("show", show, (FEED, ZONE, option(
        "round_index", int | None, "Show this round's submissions instead of the latest "
        "value.", None, flag="--round")), READ),
    Query("list", "oracle/feeds", "Every feed's latest value per zone, with units and ages.",
          (), feeds_table, extra=chain_now),
    Custom("feed", feed, (
        SENDER, ZONE,
        option("csv_file", Path | None, "CSV with a header: feed,value and round or time_ms.",
               None, flag="--csv"),
        option("json_file", Path | None, "JSON list of {feed, value, round | time_ms}.", None,
               flag="--json"),
        option("simulated", bool, "Generate every feed from a seeded simulated source.",
               False, flag="--simulate"),
        option("seed", int, "Seed of the simulated source.", 1),
        option("interval", float | None, "Seconds between submissions (files; default 0) or "
               "between simulated rounds (default: wait for the next round).", None),
        option("count", int | None, "Rows to submit (files; default all) or rounds to "
               "simulate (default 1).", None),
        option("progress", bool, None, True, flag="--progress/--no-progress")), RELAY),
])
