"""Drive the CLI in-process (typer's CliRunner) against a node's home: the
``Cli`` wrapper checks exit codes and parses ``--output json``; builders set up
the accounts and the registered asset that the CLI end-to-end tests start from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from wattchain.cli.main import app

runner = CliRunner()


class Cli:
    def __init__(self, home: Path) -> None:
        self.home = str(home)

    def run(self, *args: str, ok: bool = True) -> str:
        result = runner.invoke(app, [*args, "--home", self.home])
        assert result.exit_code == (0 if ok else 1), result.output
        return result.output

    def json(self, *args: str, ok: bool = True) -> Any:
        """Parse stdout only: warnings and rejections go to stderr."""
        result = runner.invoke(app, [*args, "--output", "json", "--home", self.home])
        assert result.exit_code == (0 if ok else 1), result.output
        return json.loads(result.stdout)


def setup_accounts(cli: Cli) -> None:
    for name, role in (("dso", "dso"), ("cert", "certifier"), ("alice", "producer")):
        cli.run("keys", "add", name, "--keyring-backend", "test")
        cli.run("tx", "transfer", "--from", "faucet", "--to", name, "--amount", "1000000")
        cli.run("tx", "grant-role", "--from", "faucet", "--account", name, "--role", role)


def register(cli: Cli) -> int:
    cli.run("zone", "set", "north", "--from", "dso", "--name", "North feeder",
            "--hosting-capacity-w", "50000")
    cli.run("producer", "register", "--from", "alice", "--name", "Alice Rooftop",
            "--kind", "household", "--contact", "mailto:alice@example.org",
            "--metadata", '{"roof": "south-facing"}')
    added = cli.json("asset", "add", "--from", "alice", "--type", "solar",
                     "--capacity-w", "8000", "--zone", "north", "--connection-point", "CP-17",
                     "--latitude", "52.520008", "--longitude", "13.404954",
                     "--commissioned", "2025-06-01", "--manufacturer", "SunWorks",
                     "--model", "SW-330", "--serial", "SN-0001", "--inverter", "InvertaMax 8",
                     "--units", "24", "--meter", "MTR-1")
    (event,) = [e for e in added["tx_result"]["events"] if e["kind"] == "asset_registered"]
    return int(event["attributes"]["asset_id"])
