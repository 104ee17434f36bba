"""The producer registration workflow end to end through the CLI, against a
real single-validator devnet node (its faucet key is the admin)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import Cli, register, setup_accounts
from process_helpers import NodeProcess

pytestmark = pytest.mark.slow  # every test here starts a process


def test_registration_workflow_through_the_cli(node_process: NodeProcess,
                                               tmp_path: Path) -> None:
    cli = Cli(node_process.home)
    setup_accounts(cli)
    asset_id = register(cli)
    evidence = tmp_path / "inspection.pdf"
    evidence.write_bytes(b"%PDF inspection of 24 panels")
    out = cli.run("certifier", "attest", str(asset_id), "--from", "alice", "--evidence",
                  str(evidence), ok=False)
    assert "needs the 'certifier' role" in out
    cli.run("certifier", "attest", str(asset_id), "--from", "cert", "--evidence", str(evidence))
    cli.run("certifier", "approve", str(asset_id), "--from", "dso")
    cli.run("certifier", "certify", str(asset_id), "--from", "cert", "--scheme", "I-REC",
            "--certificate-id", "IREC-DE-0001", "--valid-from", "2025-01-01",
            "--valid-to", "2030-01-01")

    asset = cli.json("asset", "show", str(asset_id))
    assert (asset["status"], asset["renewable"], asset["active_capacity_w"]) == (
        "active", True, 8000)
    assert (asset["latitude_micro"], asset["commissioned_ms"]) == (52_520_008, 1_748_736_000_000)
    assert [h["status"] for h in asset["history"]] == ["submitted", "attested", "active"]
    assert asset["certifications"][0]["certificate_id"] == "IREC-DE-0001"
    text = cli.run("asset", "show", str(asset_id))
    assert "IREC-DE-0001" in text and "8000 W active, renewable" in text

    assert [a["asset_id"] for a in cli.json("asset", "list", "--zone", "north")["assets"]] == [
        asset_id]
    assert cli.json("asset", "list", "--status", "submitted")["assets"] == []
    assert cli.json("asset", "list", "--owner", "alice")["assets"][0]["type"] == "solar"
    capacity = cli.json("zone", "capacity", "north")["zones"][0]
    assert capacity["by_type"]["solar"]["active_w"] == 8000
    assert "North feeder" in cli.run("zone", "list")
    assert cli.json("zone", "show", "north")["connected_w"] == 8000
    assert cli.json("producer", "show", "alice")["assets"] == [asset_id]
    assert cli.json("producer", "list", "--kind", "household")["producers"][0]["name"] == (
        "Alice Rooftop")
    expiring = cli.json("asset", "expiring", "--before", "2031-01-01")["certifications"]
    assert [c["certificate_id"] for c in expiring] == ["IREC-DE-0001"]
    assert len(cli.json("certifier", "list")["accounts"]) == 1


def test_lifecycle_and_helpful_errors_through_the_cli(node_process: NodeProcess) -> None:
    cli = Cli(node_process.home)
    setup_accounts(cli)
    asset_id = register(cli)
    cli.run("certifier", "attest", str(asset_id), "--from", "cert", "--evidence-hash",
            "ab" * 32)
    cli.run("certifier", "approve", str(asset_id), "--from", "dso")
    cli.run("asset", "suspend", str(asset_id), "--from", "dso", "--reason", "feeder works")
    out = cli.run("asset", "reinstate", str(asset_id), "--from", "alice", "--reason", "please",
                  ok=False)
    assert "only the suspender, admin may reinstate" in out
    cli.run("asset", "reinstate", str(asset_id), "--from", "dso", "--reason", "works done")
    cli.run("asset", "update", str(asset_id), "--from", "alice", "--capacity-w", "9000")
    asset = cli.json("asset", "show", str(asset_id))
    assert (asset["status"], asset["revision"], asset["capacity_w"]) == ("submitted", 2, 9000)
    cli.run("asset", "revoke", str(asset_id), "--from", "alice", "--reason", "roof sold")
    history = cli.json("asset", "show", str(asset_id))["history"]
    assert [h["status"] for h in history][-4:] == ["suspended", "active", "submitted",
                                                   "revoked"]
    assert history[-1]["reason"] == "roof sold"

    out = cli.run("asset", "add", "--from", "alice", "--type", "nuclear", "--capacity-w", "1",
                  "--zone", "north", "--connection-point", "CP", "--latitude", "1",
                  "--longitude", "1", "--commissioned", "2025-01-01", "--manufacturer", "M",
                  "--model", "M", "--serial", "S-2", ok=False)
    assert "unknown asset type 'nuclear'" in out
    out = cli.run("asset", "add", "--from", "alice", "--type", "solar", "--capacity-w", "1",
                  "--zone", "north", "--connection-point", "CP", "--latitude", "1.0000001",
                  "--longitude", "1", "--commissioned", "2025-01-01", "--manufacturer", "M",
                  "--model", "M", "--serial", "S-2", ok=False)
    assert "more than 6 decimals" in out
    assert "no asset with id 99" in cli.run("asset", "show", "99", ok=False)
    out = cli.run("certifier", "attest", "1", "--from", "cert", ok=False)
    assert "exactly one of --evidence" in out
    assert "nothing to update" in cli.run("asset", "update", "1", "--from", "alice", ok=False)
