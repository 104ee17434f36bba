"""`wattchain keys ...`: the local keyring."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wattchain.cli.command_table import Custom, add
from wattchain.cli.common import (
    BackendOption,
    CliError,
    console,
    emit,
    kv_table,
    read_password,
    table,
)
from wattchain.cli.context import open_keyring, password_for
from wattchain.cli.params import HOME, OUTPUT, Param, option

app = typer.Typer(help="Manage keys in the keyring (<home>/keyring).", no_args_is_help=True)

NAME = Param("name", str)
BACKEND = Param("keyring_backend", BackendOption, "file")


def new_key_password(backend: str) -> str | None:
    return read_password(confirm=True) if backend == "file" else None


def confirm(yes: bool, question: str) -> None:
    """Exit 1 unless ``yes`` or the user confirms."""
    if not yes and not typer.confirm(question):
        raise typer.Exit(1)


def add_key(name: str, home: Path, keyring_backend: str, output: str) -> None:
    """Create a new key NAME. The file backend asks for a password."""
    keyring = open_keyring(home, keyring_backend)
    info, _ = keyring.add(name, new_key_password(keyring_backend))
    emit(output, info.to_json(), kv_table(f"key {name} created", info.to_json()))


def list_keys(home: Path, output: str) -> None:
    """List the keys in the keyring."""
    infos = open_keyring(home).list()
    emit(output, [info.to_json() for info in infos],
         table(f"keys in {home / 'keyring'}", ["name", "address", "backend"],
               [[info.name, info.to_json()["address"], info.backend] for info in infos]))


def show(name: str, home: Path, output: str) -> None:
    """Show a key's address and public key (no password needed)."""
    info = open_keyring(home).info(name)
    emit(output, info.to_json(), kv_table(f"key {name}", info.to_json()))


def export(name: str, home: Path, yes: bool, output: str) -> None:
    """Print a key's secret in hex. Anyone who sees it controls the account."""
    keyring = open_keyring(home)
    confirm(yes, f"Print the secret of {name!r} in clear?")
    secret = keyring.export_key(name, password_for(keyring, name))
    emit(output, {"name": name, "secret": secret.hex()}, secret.hex())


def import_key(name: str, secret_file: Path, home: Path, keyring_backend: str,
               output: str) -> None:
    """Import a key from a file holding its secret in hex."""
    try:
        secret = bytes.fromhex(secret_file.read_text().strip())
    except ValueError:
        raise CliError(f"{secret_file} must hold the secret as 64 hex digits") from None
    keyring = open_keyring(home, keyring_backend)
    info = keyring.import_key(name, secret, new_key_password(keyring_backend))
    emit(output, info.to_json(), kv_table(f"key {name} imported", info.to_json()))


def delete(name: str, home: Path, yes: bool) -> None:
    """Delete a key from the keyring (export it first if you need it)."""
    keyring = open_keyring(home)
    keyring.info(name)
    confirm(yes, f"Delete key {name!r}?")
    keyring.delete(name)
    console.print(f"deleted key {name}")


def yes_option(help_text: str) -> Param:
    return Param("yes", Annotated[bool, typer.Option("--yes", help=help_text)], False)


add(app, [
    Custom("add", add_key, (NAME, HOME, BACKEND, OUTPUT)),
    Custom("list", list_keys, (HOME, OUTPUT)),
    Custom("show", show, (NAME, HOME, OUTPUT)),
    Custom("export", export, (NAME, HOME, yes_option("Do not ask before printing."), OUTPUT)),
    Custom("import", import_key, (
        NAME, option("secret_file", Path, "File holding the 32-byte secret in hex."), HOME,
        BACKEND, OUTPUT)),
    Custom("delete", delete, (NAME, HOME, yes_option("Do not ask for confirmation."))),
])
