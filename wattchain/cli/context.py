"""What a command reaches through ``--home`` and ``--node``: the keyring, a
node's RPC, and the send path of every tx command (build with the client
library, check funds, sign, broadcast, print the outcome)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from wattchain.cli.common import CliError, emit, kv_table, node_url, read_password
from wattchain.client import Keyring, RpcClient, TxBuilder, TxOutcome, broadcast_tx, sign_tx
from wattchain.crypto import PrivateKey, format_address
from wattchain.types import SignedTx


def open_keyring(home: Path, backend: str = "file") -> Keyring:
    if backend not in ("file", "test"):
        raise CliError("--keyring-backend must be file or test")
    return Keyring(home / "keyring", backend=backend)


def password_for(keyring: Keyring, name: str) -> str | None:
    """The password needed to read ``name`` (None for test-backend keys)."""
    return None if keyring.info(name).backend == "test" else read_password()


def load_signer(home: Path, name: str) -> PrivateKey:
    keyring = open_keyring(home)
    return keyring.get(name, password_for(keyring, name))


def resolve(home: Path, name_or_address: str) -> bytes:
    """The address of a key name in the keyring, or of a 0x address."""
    return open_keyring(home).resolve_address(name_or_address)


def address_text(home: Path, name_or_address: str) -> str:
    return format_address(resolve(home, name_or_address))


def connect(home: Path, node: str | None) -> RpcClient:
    """An RPC client of ``--node``, else of the node configured in ``--home``."""
    return RpcClient(node_url(home, node))


def fetch(home: Path, node: str | None, path: str, **data: Any) -> Any:
    """The value of one state query."""
    with connect(home, node) as client:
        return client.query(path, **data)


def latest_time_ms(home: Path, node: str | None) -> int:
    with connect(home, node) as client:
        return client.latest_time_ms()


def report(outcome: TxOutcome, output: str) -> Any:
    """Print a broadcast's outcome and return the node's answer; exit 1 if it failed."""
    outcome.raise_for_refusal()
    summary = {"hash": outcome.hash, "height": outcome.answer.get("height")}
    result = outcome.result
    if result is not None and result["code"] != 0:
        emit(output, outcome.answer, kv_table("tx failed", {**summary, "log": result["log"]}))
        raise typer.Exit(1)
    emit(output, outcome.answer, kv_table("tx committed" if outcome.committed
                                          else "tx accepted", summary))
    return outcome.answer


def submit(client: RpcClient, stx: SignedTx, wait: bool, output: str) -> Any:
    """Broadcast, print the outcome and return the node's answer (exit 1 on failure)."""
    return report(broadcast_tx(client, stx, wait), output)


def send(home: Path, node: str | None, sender: str, module: str, method: str,
         args: list[Any], fee: int | None, wait: bool, output: str,
         spend: int = 0) -> Any:
    """Sign ``module.method(args)`` with the key ``sender`` and broadcast it."""
    signer = load_signer(home, sender)
    with connect(home, node) as client:
        tx, account = TxBuilder(client).build_with_account(signer.address, module, method,
                                                           args, fee)
        if account["balance"] < spend + tx.fee:
            raise CliError(f"insufficient funds: {sender} holds {account['balance']} "
                           f"micro-units, needs {spend} + fee {tx.fee}")
        return submit(client, sign_tx(tx, signer), wait, output)
