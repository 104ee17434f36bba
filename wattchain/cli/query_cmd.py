"""`wattchain query ...`: read chain state through a node."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from wattchain.cli.client import RpcClient
from wattchain.cli.common import (
    DEFAULT_HOME,
    HomeOption,
    NodeOption,
    OutputOption,
    check_output,
    emit,
    handle_errors,
    kv_table,
    node_url,
)
from wattchain.cli.keys_cmd import open_keyring
from wattchain.crypto import format_address

app = typer.Typer(help="Query accounts, blocks and transactions.", no_args_is_help=True)


def client_for(home: Path, node: str | None) -> RpcClient:
    return RpcClient(node_url(home, node))


def address_text(home: Path, name_or_address: str) -> str:
    return format_address(open_keyring(home).resolve_address(name_or_address))


@app.command("account")
@handle_errors
def account(who: Annotated[str, typer.Argument(help="Key name or 0x address.")],
            home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
            output: OutputOption = "text") -> None:
    """Balance, nonce and roles of an account."""
    check_output(output)
    with client_for(home, node) as client:
        value = client.query("accounts/account", address=address_text(home, who))
    emit(output, value, kv_table(f"account {who}", value))


@app.command("balance")
@handle_errors
def balance(who: Annotated[str, typer.Argument(help="Key name or 0x address.")],
            home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
            output: OutputOption = "text") -> None:
    """Balance of an account in micro-units."""
    check_output(output)
    with client_for(home, node) as client:
        value = client.query("accounts/balance", address=address_text(home, who))
    emit(output, value, f"{value['balance']} micro-units ({value['address']})")


@app.command("block")
@handle_errors
def block(height: Annotated[int | None, typer.Argument(help="Default: latest.")] = None,
          home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
          output: OutputOption = "text") -> None:
    """A block's header and transactions."""
    check_output(output)
    params: dict[str, Any] = {} if height is None else {"height": height}
    with client_for(home, node) as client:
        value = client.call("block", **params)
    header = value["block"]["header"]
    rows = {"hash": value["block_id"]["hash"], **{k: str(v) for k, v in header.items()},
            "txs": str(len(value["block"]["txs"]))}
    emit(output, value, kv_table(f"block {header['height']}", rows))


@app.command("tx")
@handle_errors
def tx(tx_hash: Annotated[str, typer.Argument(help="Tx hash in hex.")],
       home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
       output: OutputOption = "text") -> None:
    """A committed transaction with its result and events."""
    check_output(output)
    with client_for(home, node) as client:
        value = client.call("tx", hash=tx_hash)
    decoded = value.get("decoded") or {}
    rows = {"hash": value["hash"], "height": str(value["height"]),
            "code": str(value["tx_result"]["code"]), "log": value["tx_result"]["log"],
            "sender": decoded.get("sender", ""),
            "call": f"{decoded.get('module')}.{decoded.get('method')}",
            "args": decoded.get("args", [])}
    emit(output, value, kv_table("transaction", rows))


@app.command("search")
@handle_errors
def search(query: Annotated[str, typer.Argument(help="e.g. \"tx.sender='0x..'\"")],
           page: int = 1, per_page: int = 30,
           home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
           output: OutputOption = "text") -> None:
    """Search committed transactions by sender, module or event attribute."""
    check_output(output)
    with client_for(home, node) as client:
        value = client.call("tx_search", query=query, page=page, per_page=per_page)
    table = Table(title=f"{value['total_count']} txs", title_justify="left")
    for column in ("height", "hash", "call", "code"):
        table.add_column(column)
    for item in value["txs"]:
        decoded = item.get("decoded") or {}
        table.add_row(str(item["height"]), item["hash"][:16],
                      f"{decoded.get('module')}.{decoded.get('method')}",
                      str(item["tx_result"]["code"]))
    emit(output, value, table)


@app.command("params")
@handle_errors
def params(home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
           output: OutputOption = "text") -> None:
    """Protocol parameters set in genesis."""
    check_output(output)
    with client_for(home, node) as client:
        value = client.query("chain/params")
    emit(output, value, kv_table("chain params", value))


@app.command("validators")
@handle_errors
def validators(home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
               output: OutputOption = "text") -> None:
    """The validator set and its voting power."""
    check_output(output)
    with client_for(home, node) as client:
        value = client.query("chain/validators")
    table = Table(title=f"validators (total power {value['total_power']})", title_justify="left")
    for column in ("name", "address", "power"):
        table.add_column(column)
    for item in value["validators"]:
        table.add_row(item["name"], item["address"], str(item["power"]))
    emit(output, value, table)


@app.command("supply")
@handle_errors
def supply(home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
           output: OutputOption = "text") -> None:
    """Total supply of the settlement token and the fee pool."""
    check_output(output)
    with client_for(home, node) as client:
        value = client.query("accounts/supply")
    emit(output, value, kv_table("supply", value))
