"""`wattchain market ...`: order books per zone and delivery interval.

Prices are micro-units of the settlement token per kWh; energy is Wh;
intervals are named by their start in ms of block time, or `next` for the
earliest interval whose book is still open.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from wattchain.cli.client import RpcClient
from wattchain.cli.common import (
    DEFAULT_HOME,
    CliError,
    HomeOption,
    NodeOption,
    OutputOption,
    check_output,
    emit,
    handle_errors,
    node_url,
)
from wattchain.cli.query_cmd import address_text
from wattchain.cli.tx_cmd import FeeOption, FromOption, WaitOption, resolve, send

app = typer.Typer(help="Peer-to-peer energy market: bids, asks, books, clearings, trades.",
                  no_args_is_help=True)

Zone = Annotated[str, typer.Option("--zone", help="Grid zone id.")]
Interval = Annotated[str, typer.Option(
    "--interval", help="Delivery interval start (ms of block time) or `next`.")]
Energy = Annotated[int, typer.Option("--energy", help="Energy in Wh.")]
Price = Annotated[int, typer.Option("--price", help="Limit price, micro-units per kWh.")]
Expiry = Annotated[int, typer.Option(help="Expiry (ms of block time); 0: until the gate.")]
Counterparty = Annotated[str | None, typer.Option(
    help="Trade only with this key name or 0x address.")]


def fetch(home: Path, node: str | None, path: str, **data: Any) -> Any:
    with RpcClient(node_url(home, node)) as client:
        return client.query("trading/" + path, **data)


def resolve_interval(home: Path, node: str | None, interval: str) -> int:
    if interval != "next":
        try:
            return int(interval)
        except ValueError:
            raise CliError("--interval must be a start time in ms or `next`") from None
    with RpcClient(node_url(home, node)) as client:
        now = int(client.call("status")["sync_info"]["latest_block_time_ms"])
        length = int(client.query("chain/params")["interval_ms"])
        gate = int(client.query("trading/params")["gate_closure_ms"])
    # the first boundary whose gate is still comfortably open (one interval of slack)
    return (now + gate + length) // length * length + length


def place(home: Path, node: str | None, sender: str, side: str, zone: str, interval: str,
          energy: int, price: int, expiry: int, renewable: bool, counterparty: str | None,
          asset: int, fee: int | None, wait: bool, output: str) -> None:
    if energy <= 0 or price < 0:
        raise CliError("--energy must be positive and --price non-negative")
    start = resolve_interval(home, node, interval)
    other = resolve(home, counterparty) if counterparty else b""
    send(home, node, sender, "trading", "place_order",
         [side, zone, start, energy, price, expiry, int(renewable), other, asset],
         fee, wait, output)


@app.command("bid")
@handle_errors
def bid(sender: FromOption, zone: Zone, energy: Energy, price: Price,
        interval: Interval = "next", expiry: Expiry = 0,
        renewable_only: Annotated[bool, typer.Option(
            "--renewable-only", help="Buy only certified renewable energy.")] = False,
        counterparty: Counterparty = None,
        home: HomeOption = DEFAULT_HOME, node: NodeOption = None, fee: FeeOption = None,
        wait: WaitOption = True, output: OutputOption = "text") -> None:
    """Place a buy order; its maximum cost (plus the zone's grid fee) goes to escrow."""
    place(home, node, sender, "buy", zone, interval, energy, price, expiry, renewable_only,
          counterparty, 0, fee, wait, output)


@app.command("ask")
@handle_errors
def ask(sender: FromOption, zone: Zone, energy: Energy, price: Price,
        asset: Annotated[int, typer.Option(help="Your active asset that delivers.")],
        interval: Interval = "next", expiry: Expiry = 0, counterparty: Counterparty = None,
        home: HomeOption = DEFAULT_HOME, node: NodeOption = None, fee: FeeOption = None,
        wait: WaitOption = True, output: OutputOption = "text") -> None:
    """Place a sell order backed by an asset with capacity for the interval."""
    place(home, node, sender, "sell", zone, interval, energy, price, expiry, False,
          counterparty, asset, fee, wait, output)


@app.command("cancel")
@handle_errors
def cancel(order_id: Annotated[int, typer.Argument(help="Order id.")], sender: FromOption,
           home: HomeOption = DEFAULT_HOME, node: NodeOption = None, fee: FeeOption = None,
           wait: WaitOption = True, output: OutputOption = "text") -> None:
    """Cancel an open order before its gate closes; escrow or capacity is released."""
    send(home, node, sender, "trading", "cancel_order", [order_id], fee, wait, output)


def orders_table(title: str, orders: list[dict[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("id", "side", "owner", "Wh left", "price", "status"):
        table.add_column(column)
    for order in orders:
        table.add_row(str(order["order_id"]), order["side"], order["owner"][:12],
                      f"{order['remaining_wh']}/{order['energy_wh']}", str(order["price"]),
                      order["status"])
    return table


@app.command("book")
@handle_errors
def book(zone: Zone, interval: Interval = "next", home: HomeOption = DEFAULT_HOME,
         node: NodeOption = None, output: OutputOption = "text") -> None:
    """Open bids (best first) and offers (cheapest first) of one book."""
    check_output(output)
    start = resolve_interval(home, node, interval)
    value = fetch(home, node, "book", zone=zone, interval_start=start)
    emit(output, value, orders_table(f"book {zone} @ {start}",
                                     value["bids"] + value["offers"]))


@app.command("trades")
@handle_errors
def trades(account: Annotated[str | None, typer.Option(help="Key name or 0x address.")]
           = None, zone: Annotated[str | None, typer.Option(help="Grid zone id.")] = None,
           home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
           output: OutputOption = "text") -> None:
    """Trades, optionally of one account or zone."""
    check_output(output)
    data: dict[str, Any] = {}
    if account:
        data["account"] = address_text(home, account)
    if zone:
        data["zone"] = zone
    value = fetch(home, node, "trades", **data)
    table = Table(title=f"{len(value['trades'])} trades", title_justify="left")
    for column in ("id", "zone", "interval", "buyer", "seller", "Wh", "price", "cost"):
        table.add_column(column)
    for item in value["trades"]:
        table.add_row(str(item["trade_id"]), item["zone"], str(item["interval_start"]),
                      item["buyer"][:12], item["seller"][:12], str(item["energy_wh"]),
                      str(item["price"]), str(item["cost"]))
    emit(output, value, table)


@app.command("clearing")
@handle_errors
def clearing(zone: Zone, home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
             output: OutputOption = "text") -> None:
    """Clearing price and volume of every cleared book of a zone."""
    check_output(output)
    value = fetch(home, node, "clearings", zone=zone)
    table = Table(title=f"clearings in {zone}", title_justify="left")
    for column in ("interval", "price", "renewable price", "volume Wh", "trades"):
        table.add_column(column)
    for item in value["clearings"]:
        table.add_row(str(item["interval_start"]), str(item["price"]),
                      str(item["renewable_price"]), str(item["volume_wh"]), str(item["trades"]))
    emit(output, value, table)


@app.command("history")
@handle_errors
def history(account: Annotated[str, typer.Argument(help="Key name or 0x address.")],
            home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
            output: OutputOption = "text") -> None:
    """Every order of an account, with its status."""
    check_output(output)
    value = fetch(home, node, "orders", owner=address_text(home, account))
    emit(output, value, orders_table(f"orders of {account}", value["orders"]))


@app.command("set-fee")
@handle_errors
def set_fee(sender: FromOption, zone: Zone,
            fee_per_kwh: Annotated[int, typer.Option(help="Micro-units per kWh.")],
            home: HomeOption = DEFAULT_HOME, node: NodeOption = None, fee: FeeOption = None,
            wait: WaitOption = True, output: OutputOption = "text") -> None:
    """Set the zone's grid fee (the zone's DSO)."""
    send(home, node, sender, "trading", "set_grid_fee", [zone, fee_per_kwh], fee, wait,
         output)


@app.command("set-band")
@handle_errors
def set_band(sender: FromOption, zone: Zone,
             floor: Annotated[int, typer.Option(help="Lowest price, micro-units per kWh.")],
             ceiling: Annotated[int, typer.Option(help="Highest price.")],
             home: HomeOption = DEFAULT_HOME, node: NodeOption = None, fee: FeeOption = None,
             wait: WaitOption = True, output: OutputOption = "text") -> None:
    """Set the zone's price band (the zone's DSO)."""
    send(home, node, sender, "trading", "set_price_band", [zone, floor, ceiling], fee, wait,
         output)


@app.command("set-mode")
@handle_errors
def set_mode(sender: FromOption, zone: Zone,
             mode: Annotated[str, typer.Option(help="auction or continuous.")],
             home: HomeOption = DEFAULT_HOME, node: NodeOption = None, fee: FeeOption = None,
             wait: WaitOption = True, output: OutputOption = "text") -> None:
    """Choose uniform-price auctions at gate closure or continuous matching (zone DSO)."""
    send(home, node, sender, "trading", "set_market_mode", [zone, mode], fee, wait, output)


cert_app = typer.Typer(help="Granular certificates of settled renewable energy.",
                       no_args_is_help=True)


@cert_app.command("list")
@handle_errors
def cert_list(owner: Annotated[str, typer.Argument(help="Key name or 0x address.")],
              home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
              output: OutputOption = "text") -> None:
    """Certificates held (active and retired) by an account."""
    check_output(output)
    value = fetch(home, node, "certificates", owner=address_text(home, owner))
    table = Table(title=f"certificates of {owner}: {value['active_wh']} Wh active, "
                  f"{value['retired_wh']} Wh retired", title_justify="left")
    for column in ("id", "asset", "interval", "Wh", "retired", "beneficiary"):
        table.add_column(column)
    for item in value["certificates"]:
        table.add_row(str(item["certificate_id"]), str(item["asset_id"]),
                      str(item["interval_start"]), str(item["wh"]),
                      "yes" if item["retired"] else "no", item["beneficiary"] or "")
    emit(output, value, table)


@cert_app.command("transfer")
@handle_errors
def cert_transfer(certificate_id: Annotated[int, typer.Argument(help="Certificate id.")],
                  sender: FromOption,
                  to: Annotated[str, typer.Option("--to", help="Key name or 0x address.")],
                  home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
                  fee: FeeOption = None, wait: WaitOption = True,
                  output: OutputOption = "text") -> None:
    """Give a certificate to another account."""
    send(home, node, sender, "trading", "transfer_certificate",
         [certificate_id, resolve(home, to)], fee, wait, output)


@cert_app.command("retire")
@handle_errors
def cert_retire(certificate_id: Annotated[int, typer.Argument(help="Certificate id.")],
                sender: FromOption,
                beneficiary: Annotated[str, typer.Option(
                    help="Who claims the renewable energy, e.g. a company and year.")],
                home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
                fee: FeeOption = None, wait: WaitOption = True,
                output: OutputOption = "text") -> None:
    """Retire (claim) a certificate; it can then no longer move."""
    send(home, node, sender, "trading", "retire_certificate", [certificate_id, beneficiary],
         fee, wait, output)


@app.command("set-imbalance-price")
@handle_errors
def set_imbalance_price(sender: FromOption, zone: Zone,
                        price: Annotated[int, typer.Option(help="Micro-units per kWh.")],
                        home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
                        fee: FeeOption = None, wait: WaitOption = True,
                        output: OutputOption = "text") -> None:
    """Set the zone's imbalance (penalty) price for settlement (zone DSO)."""
    send(home, node, sender, "trading", "set_imbalance_price", [zone, price], fee, wait,
         output)


@app.command("set-link")
@handle_errors
def set_link(sender: FromOption,
             source: Annotated[str, typer.Option("--from-zone", help="Your zone (exporting).")],
             target: Annotated[str, typer.Option("--to-zone", help="The importing zone.")],
             capacity_w: Annotated[int, typer.Option(help="Interconnection capacity in W; "
                                                           "0 closes the link.")],
             fee_per_kwh: Annotated[int, typer.Option(help="Micro-units per kWh.")],
             home: HomeOption = DEFAULT_HOME, node: NodeOption = None, fee: FeeOption = None,
             wait: WaitOption = True, output: OutputOption = "text") -> None:
    """Open (or change) a link from your zone to another for cross-zone trades."""
    send(home, node, sender, "trading", "set_interconnection",
         [source, target, capacity_w, fee_per_kwh], fee, wait, output)
