"""Oracles through the CLI on a real node: the admin grants the role, an
oracle submits, shows, lists, and runs the feeder (simulated and CSV)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import Cli
from process_helpers import NodeProcess, node_with_genesis

pytestmark = pytest.mark.slow  # every test here starts a process

ROUND_MS = 1_000


@pytest.fixture
def oracle_node(tmp_path: Path) -> Iterator[NodeProcess]:
    """The devnet of ``node_process`` with one-second oracle rounds, so the feeder
    crosses several rounds within a test."""
    oracle = {"params": {"round_ms": ROUND_MS, "window_rounds": 30}}
    with node_with_genesis(tmp_path / "home", app_state={"oracle": oracle},
                           empty_block_ms=300) as node:
        yield node


def test_oracle_submits_shows_and_feeds(oracle_node: NodeProcess, tmp_path: Path) -> None:
    cli = Cli(oracle_node.home)
    cli.run("keys", "add", "sensor", "--keyring-backend", "test")
    cli.run("tx", "transfer", "--from", "faucet", "--to", "sensor", "--amount", "1000000")
    refused = cli.run("oracle", "submit", "--from", "sensor", "--feed", "temperature",
                      "--zone", "north", "--value", "21500", ok=False)
    assert "oracle" in refused
    cli.run("tx", "grant-role", "--from", "faucet", "--account", "sensor", "--role", "oracle")
    cli.run("oracle", "submit", "--from", "sensor", "--feed", "temperature", "--zone",
            "north", "--value", "-1500.0")
    shown = cli.json("oracle", "show", "--feed", "temperature", "--zone", "north")
    assert shown["value"] == -1_500 and shown["age_ms"] >= 0
    round_view = cli.json("oracle", "show", "--feed", "temperature", "--zone", "north",
                          "--round", str(shown["round"]))
    assert round_view["finalized"] and round_view["median"] == -1_500
    cli.run("oracle", "submit", "--from", "sensor", "--feed", "temperature", "--zone",
            "north", "--value", "21.5", ok=False)  # not a whole number of milli-degC

    summary = cli.json("oracle", "feed", "--from", "sensor", "--zone", "south", "--simulate",
                       "--seed", "7", "--count", "3", "--no-progress")
    assert (summary["submitted"], summary["accepted"], summary["rejected"]) == (18, 18, 0)
    assert len(summary["rounds"]) == 3 and summary["rounds"] == sorted(summary["rounds"])
    listed = cli.json("oracle", "list")["feeds"]
    assert {item["feed"] for item in listed if item["zone"] == "south"} == {
        "wholesale_price", "irradiance", "wind_speed", "temperature", "grid_frequency",
        "emission_factor"}
    frequency = cli.json("oracle", "show", "--feed", "grid_frequency", "--zone", "south")
    assert 49_900 <= frequency["value"] <= 50_100

    rows = tmp_path / "rows.csv"
    rows.write_text("feed,value\nwind_speed,7250\nirradiance,640\nwind_speed,7300\n")
    from_file = cli.json("oracle", "feed", "--from", "sensor", "--zone", "east", "--csv",
                         str(rows), "--no-progress")
    assert from_file["submitted"] == 3 and from_file["accepted"] >= 2
