"""Balancing through the CLI on a real node with one-second intervals: the DSO
bounds its zone's imbalance price, then status and forecast show the records."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from process_helpers import NodeProcess, make_home
from test_registration_cli import Cli, runner, setup_accounts

from wattchain.cli.main import app


@pytest.fixture
def grid_node(tmp_path: Path) -> Iterator[NodeProcess]:
    home, url = make_home(tmp_path / "home", min_block_ms=100, empty_block_ms=300)
    genesis_file = home / "config" / "genesis.json"
    genesis = json.loads(genesis_file.read_text())
    genesis["params"]["interval_ms"] = 1_000
    genesis_file.write_text(json.dumps(genesis))
    node = NodeProcess(home, url)
    node.start()
    try:
        yield node
    finally:
        node.stop()


def test_grid_status_forecast_and_bounds(grid_node: NodeProcess) -> None:
    cli = Cli(grid_node.home)
    setup_accounts(cli)
    cli.run("zone", "set", "north", "--from", "dso", "--name", "North feeder",
            "--hosting-capacity-w", "50000")
    refused = cli.run("grid", "set-bounds", "--from", "alice", "--zone", "north",
                      "--floor", "1", "--ceiling", "2", ok=False)
    assert "operator" in refused
    cli.run("grid", "set-bounds", "--from", "dso", "--zone", "north", "--floor", "40000",
            "--ceiling", "90000")
    deadline = time.monotonic() + 20
    while True:  # the first interval ends about a second after the zone appeared
        result = runner.invoke(app, ["grid", "status", "--zone", "north", "--output", "json",
                                     "--home", cli.home])
        if result.exit_code == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    status = json.loads(result.output)
    assert status["bounds"] == {"floor": 40_000, "ceiling": 90_000}
    assert status["price_rule"] == "stale_long" and status["price"] == 40_000
    assert cli.json("grid", "status")["zones"] >= 1
    forecast = cli.json("grid", "forecast", "--zone", "north")
    assert len(forecast["forecasts"]) == 4 and forecast["accuracy"]["zone"] == "north"
