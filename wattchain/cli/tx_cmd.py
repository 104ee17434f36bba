"""`wattchain tx ...`: build, sign (online or offline) and broadcast transactions."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from wattchain.cli.client import RpcClient
from wattchain.cli.common import (
    DEFAULT_HOME,
    CliError,
    HomeOption,
    NodeOption,
    OutputOption,
    check_output,
    console,
    emit,
    handle_errors,
    kv_table,
    node_url,
)
from wattchain.cli.keys_cmd import open_keyring, password_for
from wattchain.crypto import PrivateKey, format_address, parse_address
from wattchain.types import SignedTx, Tx, sign_tx

app = typer.Typer(help="Create, sign and broadcast transactions.", no_args_is_help=True)

FromOption = Annotated[str, typer.Option("--from", help="Name of the signing key.")]
FeeOption = Annotated[int | None, typer.Option(help="Fee in micro-units (default: the "
                                                    "chain minimum).")]
WaitOption = Annotated[bool, typer.Option("--wait/--no-wait",
                                          help="Wait until the tx is in a block.")]


def load_signer(home: Path, name: str) -> PrivateKey:
    keyring = open_keyring(home)
    return keyring.get(name, password_for(keyring, name))


def resolve(home: Path, name_or_address: str) -> bytes:
    return open_keyring(home).resolve_address(name_or_address)


def build_tx(client: RpcClient, signer: PrivateKey, module: str, method: str,
             args: list[Any], fee: int | None) -> tuple[Tx, dict[str, Any]]:
    """A tx with the chain id, the signer's next nonce and the fee filled in."""
    status = client.call("status")
    chain_id = status["node_info"]["network"]
    account = client.query("accounts/account", address=format_address(signer.address))
    params = client.query("chain/params")
    pending = client.call("num_unconfirmed_txs")["n_txs"]
    del pending
    tx = Tx(chain_id, signer.address, account["nonce"], fee if fee is not None
            else params["min_fee"], module, method, args)
    return tx, account


def submit(client: RpcClient, stx: SignedTx, wait: bool, output: str) -> Any:
    """Broadcast, print the outcome and return the node's answer (exit 1 on failure)."""
    mode = "commit" if wait else "sync"
    answer = client.broadcast(stx.raw, mode)
    check = answer["check_tx"] if wait else answer
    if check["code"] != 0:
        raise CliError(f"the node refused the tx ({check['codespace']} code "
                       f"{check['code']}): {check['log']}")
    result = answer.get("tx_result") if wait else None
    summary = {"hash": stx.tx_id.hex(), "height": answer.get("height")}
    if result is not None and result["code"] != 0:
        emit(output, answer, kv_table("tx failed", {**summary, "log": result["log"]}))
        raise typer.Exit(1)
    emit(output, answer, kv_table("tx committed" if wait else "tx accepted", summary))
    return answer


def send(home: Path, node: str | None, sender: str, module: str, method: str,
         args: list[Any], fee: int | None, wait: bool, output: str,
         spend: int = 0) -> Any:
    check_output(output)
    signer = load_signer(home, sender)
    with RpcClient(node_url(home, node)) as client:
        tx, account = build_tx(client, signer, module, method, args, fee)
        if account["balance"] < spend + tx.fee:
            raise CliError(f"insufficient funds: {sender} holds {account['balance']} "
                           f"micro-units, needs {spend} + fee {tx.fee}")
        return submit(client, sign_tx(tx, signer), wait, output)


@app.command("transfer")
@handle_errors
def transfer(
    sender: FromOption,
    to: Annotated[str, typer.Option("--to", help="Key name or 0x address.")],
    amount: Annotated[int, typer.Option(help="Amount in micro-units (1 token = 1e6).")],
    home: HomeOption = DEFAULT_HOME, node: NodeOption = None, fee: FeeOption = None,
    wait: WaitOption = True, output: OutputOption = "text",
) -> None:
    """Send settlement tokens; prints the tx hash and block height."""
    if amount <= 0:
        raise CliError("--amount must be positive")
    send(home, node, sender, "accounts", "transfer", [resolve(home, to), amount], fee, wait,
         output, spend=amount)


@app.command("mint")
@handle_errors
def mint(
    sender: FromOption,
    to: Annotated[str, typer.Option("--to", help="Key name or 0x address.")],
    amount: Annotated[int, typer.Option(help="Amount in micro-units.")],
    home: HomeOption = DEFAULT_HOME, node: NodeOption = None, fee: FeeOption = None,
    wait: WaitOption = True, output: OutputOption = "text",
) -> None:
    """Mint tokens against fiat (issuer role)."""
    send(home, node, sender, "accounts", "mint", [resolve(home, to), amount], fee, wait, output)


@app.command("burn")
@handle_errors
def burn(
    sender: FromOption,
    amount: Annotated[int, typer.Option(help="Amount in micro-units.")],
    home: HomeOption = DEFAULT_HOME, node: NodeOption = None, fee: FeeOption = None,
    wait: WaitOption = True, output: OutputOption = "text",
) -> None:
    """Burn tokens from your own balance (issuer role)."""
    send(home, node, sender, "accounts", "burn", [amount], fee, wait, output, spend=amount)


def _role_command(method: str, verb: str) -> Any:
    def command(
        sender: FromOption,
        account: Annotated[str, typer.Option("--account", help="Key name or 0x address.")],
        role: Annotated[str, typer.Option(help="admin, validator, dso, certifier, "
                                               "meter_operator, oracle, issuer, producer, "
                                               "consumer")],
        home: HomeOption = DEFAULT_HOME, node: NodeOption = None, fee: FeeOption = None,
        wait: WaitOption = True, output: OutputOption = "text",
    ) -> None:
        send(home, node, sender, "accounts", method, [resolve(home, account), role], fee,
             wait, output)

    command.__doc__ = (f"{verb} a role (admin). With an admin quorum above 1 this records "
                       "your approval; the change applies when enough admins approved.")
    return handle_errors(command)


app.command("grant-role")(_role_command("grant_role", "Grant"))
app.command("revoke-role")(_role_command("revoke_role", "Revoke"))


def parse_arg(text: str) -> Any:
    """TYPE:VALUE with TYPE in int, str, addr (key name or 0x address), hex."""
    kind, sep, value = text.partition(":")
    if not sep:
        raise CliError(f"--arg {text!r}: write TYPE:VALUE (int:5, str:solar, addr:0x.., hex:ab)")
    if kind == "int":
        return int(value)
    if kind == "str":
        return value
    if kind == "addr":
        return parse_address(value)
    if kind == "hex":
        return bytes.fromhex(value.removeprefix("0x"))
    raise CliError(f"--arg type {kind!r} is not one of int, str, addr, hex")


@app.command("sign")
@handle_errors
def sign(
    sender: FromOption,
    module: Annotated[str, typer.Option(help="Module, e.g. accounts.")],
    method: Annotated[str, typer.Option(help="Method, e.g. transfer.")],
    out: Annotated[Path, typer.Option("--out", help="File to write the signed tx to.")],
    arg: Annotated[list[str] | None, typer.Option(
        "--arg", help="Argument as TYPE:VALUE (int, str, addr, hex); repeat in order.")] = None,
    nonce: Annotated[int | None, typer.Option(help="Nonce (offline signing).")] = None,
    chain_id: Annotated[str | None, typer.Option(help="Chain id (offline signing).")] = None,
    fee: FeeOption = None,
    valid_until_height: Annotated[int, typer.Option(help="0: no expiry.")] = 0,
    home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
) -> None:
    """Sign a tx into a file. With --nonce, --chain-id and --fee no node is contacted."""
    signer = load_signer(home, sender)
    args = [parse_arg(a) for a in arg or []]
    if nonce is not None and chain_id is not None and fee is not None:
        tx = Tx(chain_id, signer.address, nonce, fee, module, method, args, valid_until_height)
    else:
        with RpcClient(node_url(home, node)) as client:
            tx, _ = build_tx(client, signer, module, method, args, fee)
            tx.valid_until_height = valid_until_height
    stx = sign_tx(tx, signer)
    out.write_text(json.dumps({"hash": stx.tx_id.hex(),
                               "tx": base64.b64encode(stx.raw).decode()}) + "\n")
    console.print(f"signed tx {stx.tx_id.hex()} written to {out}")


@app.command("broadcast")
@handle_errors
def broadcast(
    file: Annotated[Path, typer.Argument(help="A file written by `tx sign`.")],
    home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
    wait: WaitOption = True, output: OutputOption = "text",
) -> None:
    """Broadcast a signed tx from a file."""
    check_output(output)
    try:
        raw = base64.b64decode(json.loads(file.read_text())["tx"], validate=True)
        stx = SignedTx.decode(raw)
    except (ValueError, KeyError, TypeError) as exc:
        raise CliError(f"{file} is not a signed tx file: {exc}") from None
    with RpcClient(node_url(home, node)) as client:
        submit(client, stx, wait, output)
