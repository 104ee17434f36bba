"""The headless demo end to end: a 4-validator testnet with a small seeded
community plays ten short intervals. Trades clear, bills recomputed from
chain data match, the scripted emergency (north islanded) suspends the north market, curtails
generation and is cleared, and every node agrees on the app hash; a second run resumes the
chain."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow  # every test here starts a process

pytest.importorskip("pvlib")  # the sim extra

INTERVALS = 10


def run_demo(directory: Path, intervals: int = INTERVALS) -> tuple[list[dict[str, Any]], str]:
    done = subprocess.run(
        [sys.executable, "-m", "wattchain.cli.main", "demo", "--dir", str(directory),
         "--headless", "--intervals", str(intervals), "--interval-s", "4", "--households",
         "8", "--emergency-at", "2", "--emergency-for", "3", "--base-port", "36656"],
        capture_output=True, text=True, timeout=400,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()], done.stderr


def test_headless_demo_trades_bills_and_survives_an_emergency(tmp_path: Path) -> None:
    lines, _ = run_demo(tmp_path / "localnet")
    assert [line["interval"] for line in lines] == list(range(INTERVALS))
    assert all(line["app_hashes_agree"] for line in lines)
    heights = [line["height"] for line in lines]
    assert heights == sorted(heights) and heights[-1] > heights[0]
    zones = [zone for line in lines for zone in line["zones"].values()]
    assert any(z["cleared_wh"] and z["clearing_price"] for z in zones)  # books cleared
    assert any(z["import_wh"] and z["export_wh"] for z in zones)  # metered each interval
    north = [line["zones"]["north"] for line in lines]
    states = [(z["emergency"], z["market"]) for z in north]
    hit = states.index(("islanding", "suspended"))
    assert (None, "open") in states[hit:]  # and the all-clear came
    assert all(z["cleared_wh"] == 0 for z in north[hit:hit + 2])  # suspended: no trades
    # islanded and long (a June morning): after the batteries, generation is curtailed
    assert any(z["emergency"] == "islanding" and z["curtailed_wh"] for z in north)
    last = lines[-1]
    assert last["emergencies_declared"] >= 1 and last["emergencies_cleared"] >= 1
    assert last["bills_verified"] > 0 and last["bills_mismatched"] == 0
    assert last["certificates"] > 0
    assert not list((tmp_path / "localnet").glob("*/node.pid"))  # the nodes were stopped
    # run again: the same chain and community resume where they stopped
    again, _ = run_demo(tmp_path / "localnet", intervals=2)
    assert again[0]["interval"] > last["interval"] and again[0]["height"] > last["height"]
    assert all(line["app_hashes_agree"] for line in again)
