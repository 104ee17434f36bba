"""Smoke test of the benchmarks: `bench/run.py --quick` runs every section and
writes its JSON. No thresholds: timings on a shared machine are not tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # every test here starts a process

REPO = Path(__file__).resolve().parents[2]


def test_quick_bench_runs_every_section(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    finished = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--quick", "--json", str(out)],
        cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert finished.returncode == 0, finished.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["quick"] is True
    results = report["results"]
    assert set(results) == {"verify", "vm", "rpc", "sync", "testnet", "clearing", "metering",
                            "flood"}
    assert 1 <= results["flood"]["fresh_sender_latency_heights"] <= 3
    assert results["vm"]["failed"] == 0
    assert results["vm"]["transfers_per_s"] > 0
    assert results["sync"]["replayed_per_s"] > 0
    assert results["clearing"]["orders_100000_cleared_per_s"] > 0
    assert len(results["testnet"]["at_300_cpu_percent_per_node"]) == 4
    assert "ratio to verify ceiling" in finished.stdout  # the table, with ratios


def test_quick_overload_section_reports_three_points(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    finished = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--quick", "--only", "overload",
         "--json", str(out)], cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert finished.returncode == 0, finished.stderr[-3000:]
    figures = json.loads(out.read_text())["results"]["overload"]
    for factor in (1, 2, 4):
        assert figures[f"x{factor}_committed_per_s"] > 0
        assert figures[f"x{factor}_busy_refusals"] >= 0


def test_unknown_section_is_refused() -> None:
    finished = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--only", "nope"],
        capture_output=True, text=True, timeout=60)
    assert finished.returncode == 2
    assert "unknown sections: nope" in finished.stderr
