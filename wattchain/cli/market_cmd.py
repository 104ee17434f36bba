"""`wattchain market ...` and `wattchain cert ...`: the trading module's order
books per zone and delivery interval, and its certificates.

Prices are micro-units of the settlement token per kWh; energy is Wh;
intervals are named by their start in ms of block time, or `next` for the
earliest interval whose book is still open.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from wattchain.cli.command_table import Query, Send, add
from wattchain.cli.common import CliError, table
from wattchain.cli.context import connect
from wattchain.cli.params import SENDER, Inputs, Param, address_field, address_of, option

app = typer.Typer(help="Peer-to-peer energy market: bids, asks, books, clearings, trades.",
                  no_args_is_help=True)
cert_app = typer.Typer(help="Granular certificates of settled renewable energy.",
                       no_args_is_help=True)

ZONE = option("zone", str, "Grid zone id.", flag="--zone")
INTERVAL = option("interval", str, "Delivery interval start (ms of block time) or `next`.",
                  "next", flag="--interval")
ENERGY = option("energy", int, "Energy in Wh.", flag="--energy")
PRICE = option("price", int, "Limit price, micro-units per kWh.", flag="--price")
EXPIRY = option("expiry", int, "Expiry (ms of block time); 0: until the gate.", 0)
COUNTERPARTY = option("counterparty", str | None, "Trade only with this key name or 0x "
                      "address.", None)
ORDER_ID = Param("order_id", Annotated[int, typer.Argument(help="Order id.")])
CERTIFICATE_ID = Param("certificate_id", Annotated[int, typer.Argument(
    help="Certificate id.")])
ACCOUNT = Param("account", Annotated[str, typer.Argument(help="Key name or 0x address.")],
                key="owner", convert=address_field)


def resolve_interval(inputs: Inputs) -> int:
    """``--interval`` as a start in ms; `next`: the first book still comfortably open."""
    interval = inputs["interval"]
    if interval != "next":
        try:
            return int(interval)
        except ValueError:
            raise CliError("--interval must be a start time in ms or `next`") from None
    with connect(inputs["home"], inputs["node"]) as client:
        now = client.latest_time_ms()
        length = int(client.query("chain/params")["interval_ms"])
        gate = int(client.query("trading/params")["gate_closure_ms"])
    # the first boundary whose gate is still comfortably open (one interval of slack)
    return (now + gate + length) // length * length + length


def order_args(side: str) -> Any:
    def args(inputs: Inputs) -> list[Any]:
        if inputs["energy"] <= 0 or inputs["price"] < 0:
            raise CliError("--energy must be positive and --price non-negative")
        start = resolve_interval(inputs)
        counterparty = inputs["counterparty"]
        other = address_of(counterparty, inputs) if counterparty else b""
        return [side, inputs["zone"], start, inputs["energy"], inputs["price"],
                inputs["expiry"], int(inputs.get("renewable_only", False)), other,
                inputs.get("asset", 0)]
    return args


def orders_table(title: str, orders: list[dict[str, Any]]) -> Any:
    return table(title, ["id", "side", "owner", "Wh left", "price", "status"],
                 [[order["order_id"], order["side"], order["owner"][:12],
                   f"{order['remaining_wh']}/{order['energy_wh']}", order["price"],
                   order["status"]] for order in orders])


def book_data(inputs: Inputs) -> dict[str, Any]:
    inputs["start"] = resolve_interval(inputs)  # for the view's title
    return {"zone": inputs["zone"], "interval_start": inputs["start"]}


def trading(name: str, method: str, doc: str, params: tuple[Param, ...], **row: Any) -> Send:
    return Send(name, "trading", method, doc, params, **row)


add(app, [
    trading("bid", "place_order", "Place a buy order; its maximum cost (plus the zone's grid "
            "fee) goes to escrow.", (
                SENDER, ZONE, ENERGY, PRICE, INTERVAL, EXPIRY,
                option("renewable_only", bool, "Buy only certified renewable energy.", False,
                       flag="--renewable-only"), COUNTERPARTY), args=order_args("buy")),
    trading("ask", "place_order", "Place a sell order backed by an asset with capacity for "
            "the interval.", (
                SENDER, ZONE, ENERGY, PRICE,
                option("asset", int, "Your active asset that delivers."), INTERVAL, EXPIRY,
                COUNTERPARTY), args=order_args("sell")),
    trading("cancel", "cancel_order", "Cancel an open order before its gate closes; escrow "
            "or capacity is released.", (ORDER_ID, SENDER)),
    trading("reduce", "reduce_order", "Lower an open order's energy before its gate closes; "
            "the escrow or capacity of the difference is released.",
            (ORDER_ID, SENDER, option("energy", int, "The order's new energy in Wh (less "
                                      "than what is left).", flag="--energy"))),
    Query("order", "trading/order", "One order: side, owner, energy left, price, status.",
          (ORDER_ID,), lambda value, inputs: orders_table(f"order {inputs['order_id']}",
                                                          [value])),
    Query("book", "trading/book", "Open bids (best first) and offers (cheapest first) of one "
          "book.", (ZONE, INTERVAL),
          lambda value, inputs: orders_table(f"book {inputs['zone']} @ {inputs['start']}",
                                             value["bids"] + value["offers"]),
          data=book_data),
    Query("trades", "trading/trades", "Trades, optionally of one account or zone.", (
        option("account", str | None, "Key name or 0x address.", None, convert=address_field),
        option("zone", str | None, "Grid zone id.", None)),
        lambda value, inputs: table(
            f"{len(value['trades'])} trades",
            ["id", "zone", "interval", "buyer", "seller", "Wh", "price", "cost"],
            [[item["trade_id"], item["zone"], item["interval_start"], item["buyer"][:12],
              item["seller"][:12], item["energy_wh"], item["price"], item["cost"]]
             for item in value["trades"]])),
    Query("clearing", "trading/clearings", "Clearing price and volume of every cleared book "
          "of a zone.", (ZONE,), lambda value, inputs: table(
              f"clearings in {inputs['zone']}",
              ["interval", "price", "renewable price", "volume Wh", "trades"],
              [[item["interval_start"], item["price"], item["renewable_price"],
                item["volume_wh"], item["trades"]] for item in value["clearings"]])),
    Query("history", "trading/orders", "Every order of an account, with its status.",
          (ACCOUNT,), lambda value, inputs: orders_table(f"orders of {inputs['account']}",
                                                         value["orders"])),
    trading("set-fee", "set_grid_fee", "Set the zone's grid fee (the zone's DSO).",
            (SENDER, ZONE, option("fee_per_kwh", int, "Micro-units per kWh."))),
    trading("set-band", "set_price_band", "Set the zone's price band (the zone's DSO).",
            (SENDER, ZONE, option("floor", int, "Lowest price, micro-units per kWh."),
             option("ceiling", int, "Highest price."))),
    trading("set-mode", "set_market_mode", "Choose uniform-price auctions at gate closure or "
            "continuous matching (zone DSO).",
            (SENDER, ZONE, option("mode", str, "auction or continuous."))),
    trading("set-imbalance-price", "set_imbalance_price", "Set the zone's imbalance (penalty) "
            "price for settlement (zone DSO).",
            (SENDER, ZONE, option("price", int, "Micro-units per kWh."))),
    trading("set-link", "set_interconnection", "Open (or change) a link from your zone to "
            "another for cross-zone trades.", (
                SENDER, option("source", str, "Your zone (exporting).", flag="--from-zone"),
                option("target", str, "The importing zone.", flag="--to-zone"),
                option("capacity_w", int, "Interconnection capacity in W; 0 closes the link."),
                option("fee_per_kwh", int, "Micro-units per kWh."))),
])


def certificates_table(value: Any, inputs: Inputs) -> Any:
    return table(f"certificates of {inputs['owner']}: {value['active_wh']} Wh active, "
                 f"{value['retired_wh']} Wh retired",
                 ["id", "asset", "interval", "Wh", "retired", "beneficiary"],
                 [[item["certificate_id"], item["asset_id"], item["interval_start"],
                   item["wh"], "yes" if item["retired"] else "no", item["beneficiary"] or ""]
                  for item in value["certificates"]])


add(cert_app, [
    Query("list", "trading/certificates", "Certificates held (active and retired) by an "
          "account.", (Param("owner", Annotated[str, typer.Argument(
              help="Key name or 0x address.")], convert=address_field),),
          certificates_table),
    trading("transfer", "transfer_certificate", "Give a certificate to another account.",
            (CERTIFICATE_ID, SENDER, option("to", str, "Key name or 0x address.", flag="--to",
                                            convert=address_of))),
    trading("retire", "retire_certificate", "Retire (claim) a certificate; it can then no "
            "longer move.", (CERTIFICATE_ID, SENDER, option(
                "beneficiary", str, "Who claims the renewable energy, e.g. a company and "
                                    "year."))),
])
