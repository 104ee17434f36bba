"""The CLI wallet end to end against a real node process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from process_helpers import NodeProcess
from typer.testing import CliRunner

from wattchain.cli.main import app

runner = CliRunner()
PASSWORD = "correct horse battery staple"


def run(*args: str, ok: bool = True) -> str:
    result = runner.invoke(app, list(args), env={"WATTCHAIN_KEYRING_PASSWORD": PASSWORD})
    if ok:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 1, result.output
    return result.output


def run_json(*args: str) -> object:
    return json.loads(run(*args, "--output", "json"))


@pytest.mark.slow
def test_wallet_flow(node_process: NodeProcess) -> None:
    home = str(node_process.home)
    run("keys", "add", "bob", "--home", home, "--keyring-backend", "test")
    keys = run_json("keys", "list", "--home", home)
    assert {k["name"] for k in keys} == {"faucet", "bob"}  # type: ignore[union-attr]

    sent = run_json("tx", "transfer", "--from", "faucet", "--to", "bob", "--amount", "5000",
                    "--home", home)
    assert sent["tx_result"]["code"] == 0 and sent["height"] >= 1  # type: ignore[index]
    balance = run_json("query", "balance", "bob", "--home", home)
    assert balance["balance"] == 5000  # type: ignore[index]

    tx = run_json("query", "tx", sent["hash"], "--home", home)  # type: ignore[index]
    assert tx["decoded"]["method"] == "transfer"  # type: ignore[index]
    assert tx["tx_result"]["events"][0]["attributes"]["amount"] == "5000"  # type: ignore[index]

    run("tx", "grant-role", "--from", "faucet", "--account", "bob", "--role", "producer",
        "--home", home)
    account = run_json("query", "account", "bob", "--home", home)
    assert account["roles"] == ["producer"]  # type: ignore[index]

    found = run_json("query", "search", "tx.module='accounts'", "--home", home)
    assert found["total_count"] == 2  # type: ignore[index]
    block = run_json("query", "block", str(sent["height"]), "--home", home)  # type: ignore[index]
    assert len(block["block"]["txs"]) >= 1  # type: ignore[index]
    status = run_json("node", "status", "--home", home)
    assert status["sync_info"]["latest_block_height"] >= sent["height"]  # type: ignore[index]


@pytest.mark.slow
def test_offline_sign_then_broadcast(node_process: NodeProcess, tmp_path: Path) -> None:
    home = str(node_process.home)
    run("keys", "add", "carol", "--home", home, "--keyring-backend", "test")
    carol = run_json("keys", "show", "carol", "--home", home)
    out = tmp_path / "signed.json"
    run("tx", "sign", "--from", "faucet", "--module", "accounts", "--method", "transfer",
        "--arg", f"addr:{carol['address']}", "--arg", "int:777",  # type: ignore[index]
        "--nonce", "0", "--chain-id", "wattchain-test", "--fee", "10",
        "--out", str(out), "--home", home)
    answer = run_json("tx", "broadcast", str(out), "--home", home)
    assert answer["tx_result"]["code"] == 0  # type: ignore[index]
    assert run_json("query", "balance", "carol", "--home", home)["balance"] == 777  # type: ignore[index]


@pytest.mark.slow
def test_helpful_errors(node_process: NodeProcess) -> None:
    home = str(node_process.home)
    run("keys", "add", "dave", "--home", home, "--keyring-backend", "test")
    out = run("tx", "transfer", "--from", "dave", "--to", "faucet", "--amount", "5",
              "--home", home, ok=False)
    assert "insufficient funds" in out
    out = run("tx", "transfer", "--from", "nobody", "--to", "dave", "--amount", "5",
              "--home", home, ok=False)
    assert "no key named 'nobody'" in out
    out = run("query", "balance", "0x1234", "--home", home, ok=False)
    assert "address" in out
    out = run("query", "balance", "dave", "--home", home, "--node", "http://127.0.0.1:9",
              ok=False)
    assert "cannot reach a node" in out
    run("tx", "transfer", "--from", "faucet", "--to", "dave", "--amount", "100", "--home", home)
    out = run("tx", "grant-role", "--from", "dave", "--account", "dave", "--role", "admin",
              "--home", home, ok=False)
    assert "needs the 'admin' role" in out


def test_encrypted_keys_round_trip(tmp_path: Path) -> None:
    home = str(tmp_path)
    added = json.loads(run("keys", "add", "erin", "--home", home, "--output", "json"))
    assert added["backend"] == "file"
    path = tmp_path / "keyring" / "erin.json"
    assert path.stat().st_mode & 0o777 == 0o600
    secret = json.loads(run("keys", "export", "erin", "--yes", "--home", home, "--output",
                            "json"))["secret"]
    assert secret not in path.read_text()
    secret_file = tmp_path / "secret.hex"
    secret_file.write_text(secret)
    run("keys", "import", "erin2", "--secret-file", str(secret_file), "--home", home)
    shown = json.loads(run("keys", "show", "erin2", "--home", home, "--output", "json"))
    assert shown["address"] == added["address"]
    run("keys", "delete", "erin2", "--yes", "--home", home)
    assert "erin2" not in run("keys", "list", "--home", home)
    wrong = runner.invoke(app, ["keys", "export", "erin", "--yes", "--home", home],
                          env={"WATTCHAIN_KEYRING_PASSWORD": "wrong"})
    assert wrong.exit_code == 1 and "wrong password" in wrong.output


@pytest.mark.slow
@pytest.mark.parametrize("command", [["--help"], ["node", "--help"], ["tx", "transfer", "--help"]])
def test_console_script_help(command: list[str]) -> None:
    result = subprocess.run([sys.executable, "-m", "wattchain.cli.main", *command],
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "COLUMNS": "120"})
    assert result.returncode == 0
    assert "Usage" in result.stdout
