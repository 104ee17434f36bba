"""Balancing through the CLI on a real node with one-second intervals: the DSO
bounds its zone's imbalance price, then status and forecast show the records;
emergencies are declared, shown and cleared; a websocket subscription follows
a zone's balanced intervals."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio
from cli_helpers import Cli, runner, setup_accounts
from process_helpers import NodeProcess, node_with_genesis
from trio_websocket import open_websocket_url

from wattchain.cli.main import app

pytestmark = pytest.mark.slow  # every test here starts a process


@pytest.fixture
def grid_node(tmp_path: Path) -> Iterator[NodeProcess]:
    with node_with_genesis(tmp_path / "home", {"interval_ms": 1_000},
                           empty_block_ms=300) as node:
        yield node


def north_zone(node: NodeProcess) -> Cli:
    """The CLI on ``node`` after the accounts are set up and the DSO set zone north."""
    cli = Cli(node.home)
    setup_accounts(cli)
    cli.run("zone", "set", "north", "--from", "dso", "--name", "North feeder",
            "--hosting-capacity-w", "50000")
    return cli


def test_grid_status_forecast_and_bounds(grid_node: NodeProcess) -> None:
    cli = north_zone(grid_node)
    refused = cli.run("grid", "set-bounds", "--from", "alice", "--zone", "north",
                      "--floor", "1", "--ceiling", "2", ok=False)
    assert "operator" in refused
    cli.run("grid", "set-bounds", "--from", "dso", "--zone", "north", "--floor", "40000",
            "--ceiling", "90000")
    deadline = time.monotonic() + 20
    while True:  # until an interval that ended after the bounds were set is recorded
        result = runner.invoke(app, ["grid", "status", "--zone", "north", "--output", "json",
                                     "--home", cli.home])
        if result.exit_code == 0 and json.loads(result.output)["price_rule"] != "none":
            break
        if time.monotonic() > deadline:
            break
        time.sleep(0.3)
    status = json.loads(result.output)
    assert status["bounds"] == {"floor": 40_000, "ceiling": 90_000}
    assert status["price_rule"] == "stale_long" and status["price"] == 40_000
    assert cli.json("grid", "status")["zones"] >= 1
    forecast = cli.json("grid", "forecast", "--zone", "north")
    assert len(forecast["forecasts"]) == 4 and forecast["accuracy"]["zone"] == "north"


async def first_zone_event(url: str, zone: str) -> dict[str, Any]:
    """Subscribe over the websocket to a zone's balanced intervals; the first event."""
    query = f"tm.event='EndBlock' AND balancing.interval_balanced.zone='{zone}'"
    async with open_websocket_url(url.replace("http://", "ws://") + "/websocket") as ws:
        await ws.send_message(json.dumps({"jsonrpc": "2.0", "id": 7, "method": "subscribe",
                                          "params": {"query": query}}))
        assert json.loads(await ws.get_message())["result"] == {}
        with trio.fail_after(20):
            event: dict[str, Any] = json.loads(await ws.get_message())
        return event


def test_emergency_flex_dispatch_and_zone_events(grid_node: NodeProcess) -> None:
    cli = north_zone(grid_node)
    event = trio.run(first_zone_event, grid_node.url, "north")
    (balanced,) = [e for e in event["result"]["data"]["events"]
                   if e["kind"] == "interval_balanced"]
    assert balanced["attributes"]["zone"] == "north"
    assert "imbalance_wh" in balanced["attributes"]
    assert cli.json("grid", "flex", "list")["offers"] == []
    refused = cli.run("grid", "emergency", "declare", "--from", "alice", "--zone", "north",
                      "--kind", "shortage", ok=False)
    assert "operator" in refused
    cli.run("grid", "emergency", "declare", "--from", "dso", "--zone", "north", "--kind",
            "islanding", "--severity", "3", "--duration-ms", "600000")
    shown = cli.json("grid", "emergency", "show", "--zone", "north")
    assert shown["emergency"]["kind"] == "islanding" and shown["market"] == "suspended"
    assert [e["zone"] for e in cli.json("grid", "emergency", "show")["emergencies"]] == ["north"]
    deadline = time.monotonic() + 20
    while True:  # an interval that starts in the emergency is dispatched under it
        dispatched = cli.json("grid", "dispatch", "--zone", "north")
        if dispatched["emergency"] == "islanding" or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert dispatched["emergency"] == "islanding"
    cli.run("grid", "emergency", "clear", "--from", "dso", "--zone", "north")
    shown = cli.json("grid", "emergency", "show", "--zone", "north")
    assert shown["emergency"] is None and shown["market"] == "open"
    assert [e["action"] for e in shown["log"]] == ["declared", "cleared"]
    resilience = cli.json("grid", "resilience", "--zone", "north")
    assert resilience["hosting_capacity_w"] == 50_000
