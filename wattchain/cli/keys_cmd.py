"""`wattchain keys ...`: the local keyring."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from wattchain.cli.common import (
    DEFAULT_HOME,
    BackendOption,
    CliError,
    HomeOption,
    OutputOption,
    check_output,
    console,
    emit,
    handle_errors,
    kv_table,
    read_password,
)
from wattchain.cli.context import open_keyring, password_for
from wattchain.client import KeyInfo

app = typer.Typer(help="Manage keys in the keyring (<home>/keyring).", no_args_is_help=True)


@app.command("add")
@handle_errors
def add(
    name: str,
    home: HomeOption = DEFAULT_HOME,
    keyring_backend: BackendOption = "file",
    output: OutputOption = "text",
) -> None:
    """Create a new key NAME. The file backend asks for a password."""
    check_output(output)
    keyring = open_keyring(home, keyring_backend)
    password = read_password(confirm=True) if keyring_backend == "file" else None
    info, _ = keyring.add(name, password)
    emit(output, info.to_json(), kv_table(f"key {name} created", info.to_json()))


@app.command("list")
@handle_errors
def list_keys(home: HomeOption = DEFAULT_HOME, output: OutputOption = "text") -> None:
    """List the keys in the keyring."""
    check_output(output)
    infos = open_keyring(home).list()
    table = Table(title=f"keys in {home / 'keyring'}", title_justify="left")
    for column in ("name", "address", "backend"):
        table.add_column(column)
    for info in infos:
        table.add_row(info.name, info.to_json()["address"], info.backend)
    emit(output, [info.to_json() for info in infos], table)


@app.command("show")
@handle_errors
def show(name: str, home: HomeOption = DEFAULT_HOME, output: OutputOption = "text") -> None:
    """Show a key's address and public key (no password needed)."""
    check_output(output)
    info: KeyInfo = open_keyring(home).info(name)
    emit(output, info.to_json(), kv_table(f"key {name}", info.to_json()))


@app.command("export")
@handle_errors
def export(
    name: str,
    home: HomeOption = DEFAULT_HOME,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before printing.")] = False,
    output: OutputOption = "text",
) -> None:
    """Print a key's secret in hex. Anyone who sees it controls the account."""
    check_output(output)
    keyring = open_keyring(home)
    if not yes and not typer.confirm(f"Print the secret of {name!r} in clear?"):
        raise typer.Exit(1)
    secret = keyring.export_key(name, password_for(keyring, name))
    emit(output, {"name": name, "secret": secret.hex()}, secret.hex())


@app.command("import")
@handle_errors
def import_key(
    name: str,
    secret_file: Annotated[Path, typer.Option(help="File holding the 32-byte secret in hex.")],
    home: HomeOption = DEFAULT_HOME,
    keyring_backend: BackendOption = "file",
    output: OutputOption = "text",
) -> None:
    """Import a key from a file holding its secret in hex."""
    check_output(output)
    try:
        secret = bytes.fromhex(secret_file.read_text().strip())
    except ValueError:
        raise CliError(f"{secret_file} must hold the secret as 64 hex digits") from None
    keyring = open_keyring(home, keyring_backend)
    password = read_password(confirm=True) if keyring_backend == "file" else None
    info = keyring.import_key(name, secret, password)
    emit(output, info.to_json(), kv_table(f"key {name} imported", info.to_json()))


@app.command("delete")
@handle_errors
def delete(
    name: str,
    home: HomeOption = DEFAULT_HOME,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a key from the keyring (export it first if you need it)."""
    keyring = open_keyring(home)
    keyring.info(name)
    if not yes and not typer.confirm(f"Delete key {name!r}?"):
        raise typer.Exit(1)
    keyring.delete(name)
    console.print(f"deleted key {name}")
