"""Options, output and error handling shared by every CLI command."""

from __future__ import annotations

import functools
import json
import os
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from wattchain.errors import WattchainError

DEFAULT_HOME = Path(os.environ.get("WATTCHAIN_HOME", Path.home() / ".wattchain"))
PASSWORD_ENV = "WATTCHAIN_KEYRING_PASSWORD"

console = Console()
error_console = Console(stderr=True)

HomeOption = Annotated[Path, typer.Option("--home", help="Node/wallet home directory "
                                          "(env WATTCHAIN_HOME).", envvar="WATTCHAIN_HOME")]
NodeOption = Annotated[str | None, typer.Option(
    "--node", help="RPC URL of a node; default: the one configured in --home, else "
    "http://127.0.0.1:26657.", envvar="WATTCHAIN_NODE")]
OutputOption = Annotated[str, typer.Option("--output", "-o", help="text or json.")]
BackendOption = Annotated[str, typer.Option(
    "--keyring-backend", help="file (encrypted, scrypt + AES-GCM) or test (unencrypted, "
    "development only).")]

F = TypeVar("F", bound=Callable[..., Any])


class CliError(Exception):
    """A problem the user can fix; printed without a traceback."""


def handle_errors(function: F) -> F:
    """Print expected failures as one clear line on stderr and exit 1."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (WattchainError, CliError, ValueError, OSError) as exc:
            message = exc.message if isinstance(exc, WattchainError) else str(exc)
            error_console.print(f"[bold red]Error:[/] {message}", highlight=False)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def check_output(output: str) -> str:
    if output not in ("text", "json"):
        raise CliError("--output must be text or json")
    return output


def emit(output: str, data: Any, table: Table | str | None = None) -> None:
    """Print ``data`` as JSON, or the human view ``table`` (default: pretty JSON)."""
    if output == "json":
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")
    elif table is None:
        console.print_json(data=data)
    else:
        console.print(table)


def kv_table(title: str, rows: dict[str, Any]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in rows.items():
        table.add_row(key, value if isinstance(value, str) else json.dumps(value))
    return table


def node_url(home: Path, node: str | None) -> str:
    if node:
        return node
    config_file = home / "config" / "config.toml"
    if config_file.exists():
        try:
            rpc = tomllib.loads(config_file.read_text()).get("rpc", {})
            host = rpc.get("host", "127.0.0.1")
            host = "127.0.0.1" if host in ("0.0.0.0", "") else host
            return f"http://{host}:{rpc.get('port', 26657)}"
        except tomllib.TOMLDecodeError:
            pass
    return "http://127.0.0.1:26657"


def read_password(confirm: bool = False) -> str:
    password = os.environ.get(PASSWORD_ENV)
    if password:
        return password
    if not sys.stdin.isatty():
        raise CliError(f"a password is needed: set {PASSWORD_ENV} or run interactively")
    value: str = typer.prompt("Keyring password", hide_input=True,
                              confirmation_prompt=confirm)
    return value
