"""`wattchain query ...`: read chain state through a node."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from wattchain.cli.command_table import Query, add
from wattchain.cli.common import kv_table, table
from wattchain.cli.params import Inputs, Param, address_field

app = typer.Typer(help="Query accounts, blocks and transactions.", no_args_is_help=True)

WHO = Param("who", Annotated[str, typer.Argument(help="Key name or 0x address.")],
            key="address", convert=address_field)


def call_name(decoded: dict[str, Any]) -> str:
    return f"{decoded.get('module')}.{decoded.get('method')}"


def block_view(value: Any, inputs: Inputs) -> Any:
    header = value["block"]["header"]
    rows = {"hash": value["block_id"]["hash"], **{k: str(v) for k, v in header.items()},
            "txs": str(len(value["block"]["txs"]))}
    return kv_table(f"block {header['height']}", rows)


def tx_view(value: Any, inputs: Inputs) -> Any:
    decoded = value.get("decoded") or {}
    return kv_table("transaction", {
        "hash": value["hash"], "height": str(value["height"]),
        "code": str(value["tx_result"]["code"]), "log": value["tx_result"]["log"],
        "sender": decoded.get("sender", ""), "call": call_name(decoded),
        "args": decoded.get("args", [])})


def search_view(value: Any, inputs: Inputs) -> Any:
    return table(f"{value['total_count']} txs", ["height", "hash", "call", "code"],
                 [[item["height"], item["hash"][:16], call_name(item.get("decoded") or {}),
                   item["tx_result"]["code"]] for item in value["txs"]])


def validators_view(value: Any, inputs: Inputs) -> Any:
    return table(f"validators (total power {value['total_power']})",
                 ["name", "address", "power"],
                 [[item["name"], item["address"], item["power"]]
                  for item in value["validators"]])


add(app, [
    Query("account", "accounts/account", "Balance, nonce and roles of an account.", (WHO,),
          lambda value, inputs: kv_table(f"account {inputs['who']}", value)),
    Query("balance", "accounts/balance", "Balance of an account in micro-units.", (WHO,),
          lambda value, inputs: f"{value['balance']} micro-units ({value['address']})"),
    Query("block", "block", "A block's header and transactions.",
          (Param("height", Annotated[int | None, typer.Argument(help="Default: latest.")],
                 None),), block_view, rpc=True),
    Query("tx", "tx", "A committed transaction with its result and events.",
          (Param("tx_hash", Annotated[str, typer.Argument(help="Tx hash in hex.")],
                 key="hash"),), tx_view, rpc=True),
    Query("search", "tx_search",
          "Search committed transactions by sender, module or event attribute.",
          (Param("query", Annotated[str, typer.Argument(help="e.g. \"tx.sender='0x..'\"")]),
           Param("page", int, 1), Param("per_page", int, 30)), search_view, rpc=True),
    Query("params", "chain/params", "Protocol parameters set in genesis.", (),
          lambda value, inputs: kv_table("chain params", value)),
    Query("validators", "chain/validators", "The validator set and its voting power.", (),
          validators_view),
    Query("supply", "accounts/supply", "Total supply of the settlement token and the fee pool.",
          (), lambda value, inputs: kv_table("supply", value)),
])
