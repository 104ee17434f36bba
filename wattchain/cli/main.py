"""The `wattchain` command: wallet, node and queries."""

from __future__ import annotations

import typer

from wattchain import __version__
from wattchain.cli import (
    bench_cmd,
    billing_cmd,
    chain_cmd,
    demo_cmd,
    grid_cmd,
    keys_cmd,
    market_cmd,
    metering_cmd,
    node_cmd,
    oracle_cmd,
    query_cmd,
    registration_cmd,
    testnet_cmd,
    tx_cmd,
)

app = typer.Typer(
    name="wattchain",
    help="WattChain: a permissioned consortium blockchain for community energy markets.\n\n"
    "Amounts are integers in micro-units of the settlement token (1 token = 1,000,000).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(keys_cmd.app, name="keys")
app.add_typer(tx_cmd.app, name="tx")
app.add_typer(query_cmd.app, name="query")
app.add_typer(node_cmd.app, name="node")
app.add_typer(testnet_cmd.app, name="testnet")
app.add_typer(registration_cmd.zone_app, name="zone")
app.add_typer(registration_cmd.producer_app, name="producer")
app.add_typer(registration_cmd.asset_app, name="asset")
app.add_typer(registration_cmd.certifier_app, name="certifier")
app.add_typer(market_cmd.app, name="market")
app.add_typer(metering_cmd.app, name="meter")
app.add_typer(billing_cmd.tariff_app, name="tariff")
app.add_typer(billing_cmd.bill_app, name="bill")
app.add_typer(billing_cmd.report_app, name="report")
app.add_typer(market_cmd.cert_app, name="cert")
app.add_typer(oracle_cmd.app, name="oracle")
app.add_typer(grid_cmd.app, name="grid")
app.add_typer(chain_cmd.chain_app, name="chain")
app.add_typer(chain_cmd.gov_app, name="gov")
app.command("devnet")(node_cmd.devnet)
app.command("demo")(demo_cmd.demo)
app.command("bench")(bench_cmd.bench)


@app.command("version")
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
