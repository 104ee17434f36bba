"""The inputs of table-driven commands (see ``command_table``): ``Param``, the
params every command shares, and converters from what a user types to what
a query or a tx carries."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from wattchain.cli.common import DEFAULT_HOME, HomeOption, NodeOption, OutputOption
from wattchain.cli.context import address_text, resolve

Inputs = dict[str, Any]
REQUIRED = inspect.Parameter.empty

FromOption = Annotated[str, typer.Option("--from", help="Name of the signing key.")]
FeeOption = Annotated[int | None, typer.Option(help="Fee in micro-units (default: the "
                                                    "chain minimum).")]
WaitOption = Annotated[bool, typer.Option("--wait/--no-wait",
                                          help="Wait until the tx is in a block.")]


@dataclass(frozen=True)
class Param:
    """One command-line input: its Python name (typer derives the option or
    argument name from it unless the annotation names it), its annotated type,
    its default, and how it becomes a query field or a tx argument.

    ``key``: the query field (default ``name``; ``""``: not sent).
    ``convert(value, inputs)``: the value sent, from the typed one.
    A ``None`` value is left out of a query (an unset filter).
    """

    name: str
    annotation: Any
    default: Any = REQUIRED
    key: str | None = None
    convert: Callable[[Any, Inputs], Any] | None = None

    def value(self, inputs: Inputs) -> Any:
        value = inputs[self.name]
        return value if self.convert is None or value is None else self.convert(value, inputs)


def option(name: str, kind: Any, help_text: str | None = None, default: Any = REQUIRED,
           flag: str | None = None, **param: Any) -> Param:
    """A ``--name`` option param (``flag`` renames it)."""
    declared = (flag,) if flag else ()
    return Param(name, Annotated[kind, typer.Option(*declared, help=help_text)],
                 default, **param)


def address_of(value: str, inputs: Inputs) -> bytes:
    """A key name or 0x address -> the address bytes (a tx argument)."""
    return resolve(inputs["home"], value)


def address_field(value: str, inputs: Inputs) -> str:
    """A key name or 0x address -> the 0x address (a query field)."""
    return address_text(inputs["home"], value)


HOME = Param("home", HomeOption, DEFAULT_HOME)
NODE = Param("node", NodeOption, None)
OUTPUT = Param("output", OutputOption, "text")
SENDER = Param("sender", FromOption)
FEE = Param("fee", FeeOption, None)
WAIT = Param("wait", WaitOption, True)
READ = (HOME, NODE, OUTPUT)  # what every query command takes
WRITE = (HOME, NODE, FEE, WAIT, OUTPUT)  # what every tx command takes
RELAY = (HOME, NODE, FEE, OUTPUT)  # commands that send many txs, each waited for
