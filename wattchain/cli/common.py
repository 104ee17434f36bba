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
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
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


View = Table | str | list[Table | str] | None


def emit(output: str, data: Any, view: View = None) -> None:
    """Print ``data`` as JSON, or the human ``view`` (default: pretty JSON); a list
    view prints its items one after the other."""
    if output == "json":
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")
    elif view is None:
        console.print_json(data=data)
    else:
        for item in view if isinstance(view, list) else [view]:
            console.print(item)


def kv_table(title: str, rows: dict[str, Any]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in rows.items():
        table.add_row(key, value if isinstance(value, str) else json.dumps(value))
    return table


def table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    """A titled table; every cell shown with ``str``."""
    view = Table(title=title, title_justify="left")
    for column in columns:
        view.add_column(column)
    for row in rows:
        view.add_row(*(str(cell) for cell in row))
    return view


def records_table(title: str, columns: list[str], records: list[dict[str, Any]]) -> Table:
    """One row per record, the named fields as columns."""
    return table(title, columns, [[record[column] for column in columns] for record in records])


def progress_bar(show: bool) -> Progress:
    """A transient progress bar on stderr (hidden unless ``show``)."""
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    console=error_console, transient=True, disable=not show)


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
