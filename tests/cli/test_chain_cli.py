"""The commands added for handlers that had none: `chain set-validator`,
`chain pending|evidence`, `gov proposals|approve` (the admin quorum) and
`market reduce|order`, each against a real node process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Cli, setup_accounts
from process_helpers import NodeProcess, node_with_genesis
from test_market_cli import wait_for

from wattchain.crypto import PrivateKey, format_address

SECOND_ADMIN = PrivateKey(b"\x61" * 32)
NEW_VALIDATOR = PrivateKey(b"\x62" * 32)

pytestmark = pytest.mark.slow


@pytest.fixture
def quorum_node(tmp_path: Path) -> Iterator[NodeProcess]:
    """A devnet whose admin quorum is 2: the faucet and a second admin."""
    def add_admin(genesis: dict[str, Any]) -> None:
        genesis["app_state"]["accounts"]["accounts"].append({
            "address": format_address(SECOND_ADMIN.address), "balance": 10_000_000,
            "nonce": 0, "roles": ["admin"]})
    with node_with_genesis(tmp_path / "home", {"admin_quorum": 2}, edit=add_admin) as node:
        yield node


def test_admin_quorum_proposals_and_validator_changes(quorum_node: NodeProcess,
                                                      tmp_path: Path) -> None:
    cli = Cli(quorum_node.home)
    secret = tmp_path / "admin2.hex"
    secret.write_text(SECOND_ADMIN.secret.hex())
    cli.run("keys", "import", "admin2", "--secret-file", str(secret), "--keyring-backend",
            "test")
    cli.run("keys", "add", "bob", "--keyring-backend", "test")
    assert cli.json("gov", "proposals") == {"proposals": []}

    cli.run("tx", "grant-role", "--from", "faucet", "--account", "bob", "--role", "dso")
    assert cli.json("query", "account", "bob")["roles"] == []  # one approval of two
    (proposal,) = cli.json("gov", "proposals")["proposals"]
    assert (proposal["action"], proposal["role"], len(proposal["approvers"])) == (
        "grant_role", "dso", 1)
    assert "grant_role" in cli.run("gov", "proposals")
    cli.run("gov", "approve", proposal["id"], "--from", "admin2")
    assert cli.json("query", "account", "bob")["roles"] == ["dso"]
    assert "no pending proposal" in cli.run("gov", "approve", proposal["id"], "--from",
                                            "admin2", ok=False)

    public_key = NEW_VALIDATOR.public_key.hex()
    cli.run("chain", "set-validator", "--from", "faucet", "--public-key", public_key,
            "--power", "1", "--name", "v2")
    (proposal,) = cli.json("gov", "proposals")["proposals"]
    assert (proposal["action"], proposal["public_key"], proposal["power"]) == (
        "set_validator", public_key, 1)
    approved = cli.json("gov", "approve", proposal["id"], "--from", "admin2")
    kinds = [event["kind"] for event in approved["tx_result"]["events"]]
    assert "validator_update" in kinds
    cli.run("chain", "pending")  # the change may or may not be in force yet
    validators = wait_for(lambda: [v for v in cli.json("query", "validators")["validators"]
                                   if v["name"] == "v2"])
    assert validators[0]["power"] == 1
    assert cli.json("chain", "pending") == {"pending": []}
    assert cli.json("chain", "evidence") == {"evidence": []}
    assert "must be a 33-byte" in cli.run("chain", "set-validator", "--from", "faucet",
                                          "--public-key", "abcd", "--power", "1", ok=False)


def test_reduce_an_open_order(node_process: NodeProcess) -> None:
    cli = Cli(node_process.home)
    setup_accounts(cli)  # dso, cert and alice, funded
    cli.run("zone", "set", "north", "--from", "dso", "--name", "North feeder",
            "--hosting-capacity-w", "50000")
    bid = cli.json("market", "bid", "--from", "alice", "--zone", "north", "--energy", "1000",
                   "--price", "200000")
    (placed,) = [e for e in bid["tx_result"]["events"] if e["kind"] == "order_placed"]
    order_id = placed["attributes"]["order_id"]
    before = cli.json("query", "balance", "alice")["balance"]

    reduced = cli.json("market", "reduce", order_id, "--from", "alice", "--energy", "400")
    assert [e for e in reduced["tx_result"]["events"] if e["kind"] == "order_reduced"]
    order = cli.json("market", "order", order_id)
    assert (order["energy_wh"], order["remaining_wh"], order["status"]) == (400, 400, "open")
    assert cli.json("query", "balance", "alice")["balance"] > before  # escrow came back
    assert f"{order['remaining_wh']}/{order['energy_wh']}" in cli.run("market", "order",
                                                                      order_id)
    out = cli.run("market", "reduce", order_id, "--from", "alice", "--energy", "900", ok=False)
    assert "only lowers" in out
