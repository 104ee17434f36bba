"""Metering end to end through the CLI against a real single-validator devnet:
meters with keyring keys, a simulated household and a Green Button file
relayed by a gateway, a tariff, a bill issued and verified, reports.

The node runs 2-second intervals (the devnet default is 60 s): a tariff must
take effect in the future and a bill covers ended intervals, so with 60 s the
test would wait two minutes of block time."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_helpers import Cli
from meter_file_helpers import green_button
from process_helpers import NodeProcess, node_with_genesis

pytestmark = pytest.mark.slow  # every test here starts a process

INTERVAL_MS = 2_000


@pytest.fixture
def fast_node(tmp_path: Path) -> Iterator[NodeProcess]:
    with node_with_genesis(tmp_path / "home", {"interval_ms": INTERVAL_MS}) as node:
        yield node


def rpc(node: NodeProcess, method: str, **params: Any) -> Any:
    answer = httpx.post(node.url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                        "params": params}, timeout=5).json()
    return answer["result"]


def block_time(node: NodeProcess) -> int:
    return int(rpc(node, "status")["sync_info"]["latest_block_time_ms"])


def wait_until(node: NodeProcess, condition: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the chain did not get there in time"
        time.sleep(0.2)


def closed_until(node: NodeProcess) -> int:
    response = rpc(node, "abci_query", path="metering/params", data={})["response"]
    return int(response["value"]["closed_until_ms"])


def setup(cli: Cli) -> None:
    for name, role in (("op", "meter_operator"), ("dso", "dso"), ("gw", None),
                       ("alice", None)):
        cli.run("keys", "add", name, "--keyring-backend", "test")
        cli.run("tx", "transfer", "--from", "faucet", "--to", name, "--amount", "1000000")
        if role:
            cli.run("tx", "grant-role", "--from", "faucet", "--account", name, "--role", role)
    for meter in ("M1", "M2"):
        cli.run("keys", "add", meter, "--keyring-backend", "test")
    cli.run("zone", "set", "north", "--from", "dso", "--name", "North feeder",
            "--hosting-capacity-w", "500000")


def test_readings_flow_through_the_gateway_and_a_bill_verifies(
        fast_node: NodeProcess, tmp_path: Path) -> None:
    cli = Cli(fast_node.home)
    setup(cli)
    cli.run("tariff", "set", "north", "--from", "dso", "--effective-from", "next",
            "--band", "night:150000:50000", "--band", "day:300000:80000",
            "--weekday", "0-7:night,7-24:day", "--standing-charge", "400000")
    (tariff,) = cli.json("tariff", "list", "north")["versions"]
    effective = tariff["effective_from_ms"]
    for meter, kind, power in (("M1", "consumption", "20000"), ("M2", "net", "200000")):
        cli.run("meter", "register", meter, "--from", "op", "--account", "alice",
                "--zone", "north", "--max-power-w", power, "--type", kind)
        cli.run("meter", "commission", meter, "--from", "op")
    wait_until(fast_node, lambda: block_time(fast_node) >= effective + 3 * INTERVAL_MS)

    simulated = cli.json("meter", "simulate", "--meter", "M1", "--from", "gw",
                         "--profile", "household", "--intervals", "6", "--seed", "7",
                         "--batch", "4")
    assert (simulated["submitted"], simulated["accepted"], simulated["rejected"]) == (7, 7, 0)
    assert len(simulated["txs"]) == 2
    again = cli.json("meter", "simulate", "--meter", "M1", "--from", "gw", "--profile",
                     "household", "--intervals", "6", "--seed", "7")
    # resumed after the chain's last sequence: only intervals ended since then
    assert again["submitted"] == 0 or (again["first_seq"], again["rejected"]) == (8, 0)

    end_s = block_time(fast_node) // 1000
    usage = tmp_path / "usage.xml"
    usage.write_text(green_button([
        (1, 1, 1, [(end_s - 9, 3, 2), (end_s - 6, 4, 3), (end_s - 2, 0, 0), (end_s - 2, 2, 1)]),
        (2, 19, 0, [(end_s - 9, 3, 0), (end_s - 6, 4, 12), (end_s - 2, 2, 5)])]))
    relayed = cli.json("meter", "gateway", "--meter", "M2", "--from", "gw",
                       "--green-button", str(usage))
    assert (relayed["accepted"], relayed["rejected"], relayed["last_seq"]) == (4, 0, 4)
    assert cli.json("meter", "gateway", "--meter", "M2", "--from", "gw",
                    "--green-button", str(usage))["submitted"] == 0
    held = cli.json("meter", "readings", "M2", "--from", str((end_s - 9) * 1000))["readings"]
    assert [(r["seq"], r["import_wh"], r["export_wh"]) for r in held] == [
        (1, 0, 0), (2, 20, 0), (3, 50, 12), (4, 60, 17)]
    m1 = cli.json("meter", "show", "M1")
    assert m1["status"] == "active" and m1["last_seq"] == m1["reading_count"] >= 7
    assert len(cli.json("meter", "list", "--account", "alice")["meters"]) == 2

    end = min(m1["last_time_ms"], end_s * 1000) // INTERVAL_MS * INTERVAL_MS
    wait_until(fast_node, lambda: closed_until(fast_node) >= end)
    period = ["--account", "alice", "--start", str(effective), "--end", str(end)]
    cli.run("bill", "issue", "--from", "op", *period)
    bill = cli.json("bill", "show", *period)
    assert bill["import_wh"] > 0 and bill["total"] == sum(x["amount"] for x in bill["lines"])
    verified = cli.json("bill", "verify", *period)
    assert verified["matches"] and verified["recomputed_total"] == bill["total"]
    assert "match" in cli.run("bill", "verify", *period)
    assert [b["total"] for b in cli.json("bill", "list", "--account", "alice")["bills"]] == [
        bill["total"]]

    csv_file = tmp_path / "alice.csv"
    report = cli.json("report", "account", "alice", "--start", str(effective), "--end",
                      str(end), "--csv", str(csv_file))
    assert report["import_wh"] == bill["import_wh"] and report["peak_demand"]["import_wh"] > 0
    assert {b["band"] for b in report["bands"]} <= {"night", "day"}
    assert len(csv_file.read_text().splitlines()) == len(report["intervals"]) + 1
    zone = cli.json("report", "zone", "north", "--start", str(effective), "--end", str(end))
    assert zone["import_wh"] == report["import_wh"]
    assert "day" in cli.run("tariff", "show", "north")
    window = ["--start", str(effective), "--end", str(end)]
    assert "peak demand" in cli.run("report", "account", "alice", *window)
    assert "import_wh" in cli.run("report", "zone", "north", *window)
    assert "standing" in cli.run("bill", "show", *period)
    for view in (["meter", "show", "M1"], ["meter", "list"], ["meter", "readings", "M1"],
                 ["bill", "list", "--account", "alice"], ["tariff", "list", "north"]):
        cli.run(*view)


def test_helpful_errors(fast_node: NodeProcess, tmp_path: Path) -> None:
    cli = Cli(fast_node.home)
    setup(cli)
    cli.run("meter", "register", "M1", "--from", "op", "--account", "alice", "--zone",
            "north", "--max-power-w", "20000")
    out = cli.run("meter", "simulate", "--meter", "M1", "--from", "gw", "--profile",
                  "household", "--intervals", "2", "--key", "M2", ok=False)
    assert "is not the key of meter 'M1'" in out
    bad = tmp_path / "bad.csv"
    bad.write_text("time,1-0:1.8.0 [Wh]\n2026-01-01T00:00:00Z,10\n2026-01-01T00:15:00Z,9\n")
    out = cli.run("meter", "gateway", "--meter", "M1", "--from", "gw", "--obis-csv", str(bad),
                  ok=False)
    assert "goes backwards" in out
    assert "exactly one of" in cli.run("meter", "gateway", "--meter", "M1", "--from", "gw",
                                       ok=False)
    assert "no meter 'M9'" in cli.run("meter", "show", "M9", ok=False)
    out = cli.run("tariff", "set", "north", "--from", "dso", "--effective-from", "next",
                  "--band", "day:1:0", "--weekday", "0-7:day,8-24:day", ok=False)
    assert "hours [7] have no band" in out
    assert "no bill" in cli.run("bill", "verify", "--account", "alice", "--start", "0",
                                "--end", "2000", ok=False)
