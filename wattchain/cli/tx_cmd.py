"""`wattchain tx ...`: build, sign (online or offline) and broadcast transactions."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from wattchain.cli.command_table import Custom, Send, add
from wattchain.cli.common import CliError, console
from wattchain.cli.context import connect, load_signer, submit
from wattchain.cli.params import (
    FEE,
    HOME,
    NODE,
    OUTPUT,
    SENDER,
    WAIT,
    Inputs,
    Param,
    address_of,
    option,
)
from wattchain.client import TxBuilder, sign_tx
from wattchain.crypto import parse_address
from wattchain.types import SignedTx, Tx

app = typer.Typer(help="Create, sign and broadcast transactions.", no_args_is_help=True)

TO = Param("to", Annotated[str, typer.Option("--to", help="Key name or 0x address.")],
           convert=address_of)
ROLE_PARAMS = (SENDER, Param("account", Annotated[str, typer.Option(
    "--account", help="Key name or 0x address.")], convert=address_of),
    Param("role", Annotated[str, typer.Option(help="admin, validator, dso, certifier, "
                                                   "meter_operator, oracle, issuer, producer, "
                                                   "consumer")]))
QUORUM_NOTE = ("a role (admin). With an admin quorum above 1 this records your approval; "
               "the change applies when enough admins approved.")


def positive_amount(value: int, inputs: Inputs) -> int:
    if value <= 0:
        raise CliError("--amount must be positive")
    return value


add(app, [
    Send("transfer", "accounts", "transfer",
         "Send settlement tokens; prints the tx hash and block height.",
         (SENDER, TO, Param("amount", Annotated[int, typer.Option(
             help="Amount in micro-units (1 token = 1e6).")], convert=positive_amount)),
         spend="amount"),
    Send("mint", "accounts", "mint", "Mint tokens against fiat (issuer role).",
         (SENDER, TO, Param("amount", Annotated[int, typer.Option(
             help="Amount in micro-units.")]))),
    Send("burn", "accounts", "burn", "Burn tokens from your own balance (issuer role).",
         (SENDER, Param("amount", Annotated[int, typer.Option(help="Amount in micro-units.")])),
         spend="amount"),
    Send("grant-role", "accounts", "grant_role", "Grant " + QUORUM_NOTE, ROLE_PARAMS),
    Send("revoke-role", "accounts", "revoke_role", "Revoke " + QUORUM_NOTE, ROLE_PARAMS),
])


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


def sign(sender: str, module: str, method: str, out: Path, arg: list[str] | None,
         nonce: int | None, chain_id: str | None, fee: int | None, valid_until_height: int,
         home: Path, node: str | None) -> None:
    """Sign a tx into a file. With --nonce, --chain-id and --fee no node is contacted."""
    signer = load_signer(home, sender)
    args = [parse_arg(a) for a in arg or []]
    if nonce is not None and chain_id is not None and fee is not None:
        tx = Tx(chain_id, signer.address, nonce, fee, module, method, args, valid_until_height)
    else:
        with connect(home, node) as client:
            tx = TxBuilder(client).build(signer.address, module, method, args, fee,
                                         valid_until_height)
    stx = sign_tx(tx, signer)
    out.write_text(json.dumps({"hash": stx.tx_id.hex(),
                               "tx": base64.b64encode(stx.raw).decode()}) + "\n")
    console.print(f"signed tx {stx.tx_id.hex()} written to {out}")


def broadcast(file: Path, home: Path, node: str | None, wait: bool, output: str) -> None:
    """Broadcast a signed tx from a file."""
    try:
        raw = base64.b64decode(json.loads(file.read_text())["tx"], validate=True)
        stx = SignedTx.decode(raw)
    except (ValueError, KeyError, TypeError) as exc:
        raise CliError(f"{file} is not a signed tx file: {exc}") from None
    with connect(home, node) as client:
        submit(client, stx, wait, output)


add(app, [
    Custom("sign", sign, (
        SENDER, option("module", str, "Module, e.g. accounts."),
        option("method", str, "Method, e.g. transfer."),
        option("out", Path, "File to write the signed tx to.", flag="--out"),
        option("arg", list[str] | None, "Argument as TYPE:VALUE (int, str, addr, hex); repeat "
               "in order.", None, flag="--arg"),
        option("nonce", int | None, "Nonce (offline signing).", None),
        option("chain_id", str | None, "Chain id (offline signing).", None), FEE,
        option("valid_until_height", int, "0: no expiry.", 0), HOME, NODE)),
    Custom("broadcast", broadcast, (Param("file", Annotated[Path, typer.Argument(
        help="A file written by `tx sign`.")]),), (HOME, NODE, WAIT, OUTPUT)),
])
