"""Balancing through the CLI on a real node with one-second intervals: the DSO
bounds its zone's imbalance price, then status and forecast show the records."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from process_helpers import NodeProcess, node_with_genesis
from test_registration_cli import Cli, runner, setup_accounts

from wattchain.cli.main import app


@pytest.fixture
def grid_node(tmp_path: Path) -> Iterator[NodeProcess]:
    def edit(genesis: dict[str, Any]) -> None:
        genesis["params"]["interval_ms"] = 1_000
    with node_with_genesis(tmp_path / "home", edit, min_block_ms=100, empty_block_ms=300) as node:
        yield node


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
