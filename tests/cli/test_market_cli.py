"""Households trade through the CLI on a real node: bids and asks, clearing at
gate closure, settlement against signed meter readings, certificates."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Cli, register, setup_accounts
from process_helpers import NodeProcess, node_with_genesis

from wattchain.client import Keyring, RpcClient
from wattchain.crypto import PrivateKey
from wattchain.modules.metering.ingest import sign_reading
from wattchain.types import Tx, sign_tx

pytestmark = pytest.mark.slow  # every test here starts a process

INTERVAL_MS = 5_000


@pytest.fixture
def market_node(tmp_path: Path) -> Iterator[NodeProcess]:
    """A devnet with 5-second intervals, so a whole market cycle fits in a test."""
    trading = {"params": {"gate_closure_ms": 2_000, "max_order_wh": 10**8,
                          "max_open_orders": 1_000, "settlement_delay_ms": 4_000},
               "records": []}
    with node_with_genesis(tmp_path / "home", {"interval_ms": INTERVAL_MS},
                           {"trading": trading}, empty_block_ms=300) as node:
        yield node


def send_tx(client: RpcClient, key: PrivateKey, module: str, method: str,
            args: list[Any]) -> dict[str, Any]:
    chain_id = client.call("status")["node_info"]["network"]
    account = client.query("accounts/account", address="0x" + key.address.hex())
    tx = sign_tx(Tx(chain_id, key.address, account["nonce"], 10, module, method, args), key)
    answer = client.call("broadcast_tx_commit", tx=base64.b64encode(tx.raw).decode())
    assert answer["tx_result"]["code"] == 0, answer
    return answer  # type: ignore[no-any-return]


def wait_for(predicate: Any, timeout_s: float = 40.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_households_trade_settle_and_receive_certificates(market_node: NodeProcess) -> None:
    cli = Cli(market_node.home)
    setup_accounts(cli)  # dso, cert (certifier) and alice (producer), funded
    asset_id = register(cli)
    cli.run("certifier", "attest", str(asset_id), "--from", "cert", "--evidence-hash",
            "cd" * 32)
    cli.run("certifier", "approve", str(asset_id), "--from", "dso")
    cli.run("certifier", "certify", str(asset_id), "--from", "cert", "--scheme", "GO",
            "--certificate-id", "GO-1", "--valid-from", "2025-01-01", "--valid-to", "2035-01-01")
    for name, role in (("carol", None), ("operator", "meter_operator")):
        cli.run("keys", "add", name, "--keyring-backend", "test")
        cli.run("tx", "transfer", "--from", "faucet", "--to", name, "--amount", "5000000")
        if role:
            cli.run("tx", "grant-role", "--from", "faucet", "--account", name, "--role", role)
    cli.run("tariff", "set", "north", "--from", "dso", "--band", "flat:300000:50000",
            "--effective-from", "next")  # so Alice's bill can carry her sale
    keyring = Keyring(market_node.home / "keyring", backend="test")
    operator, alice = keyring.get("operator"), keyring.get("alice")
    meter_key = PrivateKey(b"\x51" * 32)

    with RpcClient(market_node.url) as client:
        send_tx(client, operator, "metering", "register_meter",
                ["MTR-1", "production", meter_key.public_key, alice.address, "north",
                 asset_id, 20_000, False])
        send_tx(client, operator, "metering", "commission", ["MTR-1"])

        bid = cli.json("market", "bid", "--from", "carol", "--zone", "north", "--energy", "10",
                       "--price", "100000", "--renewable-only")
        (placed,) = [e for e in bid["tx_result"]["events"] if e["kind"] == "order_placed"]
        interval = int(placed["attributes"]["interval"])
        cli.run("market", "ask", "--from", "alice", "--zone", "north", "--energy", "10",
                "--price", "60000", "--asset", str(asset_id), "--interval", str(interval))
        book = cli.json("market", "book", "--zone", "north", "--interval", str(interval))
        assert len(book["bids"]) == 1 and len(book["offers"]) == 1

        # the meter reports 8 Wh exported during the delivery interval
        chain_id = client.call("status")["node_info"]["network"]
        readings = [sign_reading(meter_key, chain_id, "MTR-1", 1, interval, 0, 0),
                    sign_reading(meter_key, chain_id, "MTR-1", 2, interval + INTERVAL_MS, 0, 8)]
        wait_for(lambda: client.call("status")["sync_info"]["latest_block_time_ms"]
                 >= interval - 50_000)
        send_tx(client, operator, "metering", "submit_readings", [readings])

    clearing = wait_for(lambda: cli.json("market", "clearing", "--zone", "north")["clearings"])
    assert clearing[0]["renewable_price"] == 80_000 and clearing[0]["volume_wh"] == 10
    settled = wait_for(lambda: [t for t in cli.json("market", "trades", "--account", "carol")
                                ["trades"] if t["settled"]])
    assert settled[0]["delivered_wh"] == 8 and settled[0]["paid"] == 8 * 80_000 // 1000
    certificates = cli.json("cert", "list", "carol")
    assert certificates["active_wh"] == 8
    cert_id = certificates["certificates"][0]["certificate_id"]
    cli.run("cert", "retire", str(cert_id), "--from", "carol", "--beneficiary", "Carol 2026")
    assert cli.json("cert", "list", "carol")["retired_wh"] == 8
    history = cli.json("market", "history", "alice")["orders"]
    assert history[0]["status"] == "filled"
    # Alice's bill: the 8 Wh fed in were sold peer to peer, so no feed-in credit
    period = ["--account", "alice", "--start", str(interval),
              "--end", str(interval + INTERVAL_MS)]
    cli.run("bill", "issue", "--from", "alice", *period)
    bill = cli.json("bill", "show", *period)
    assert [(line["kind"], line["amount"]) for line in bill["lines"]] == [
        ("p2p_sales", -settled[0]["paid"])]
    verified = cli.json("bill", "verify", *period)
    assert verified["matches"] and verified["trades"] == 1
