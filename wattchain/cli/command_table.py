"""Table-driven commands: most commands are one of two shapes, so each is a
row in a table and one generic function runs it (the rest are ``Custom`` rows).

* ``Query``: check the output format -> fetch one query (or RPC call) -> print
  the value as JSON or a view.
* ``Send``: turn the options into a tx's arguments -> sign and broadcast it
  from ``--from`` -> print the outcome.

A row lists its ``Param``s in the order ``--help`` shows them; ``add`` builds
a typer command whose signature is those params plus the shared ones
(``--home``, ``--node``, and for txs ``--fee``, ``--wait``; ``--output``).
A ``Custom`` row's function keeps a plain typed signature; the row gives
its command-line declarations.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import typer

from wattchain.cli.common import View, check_output, emit, handle_errors
from wattchain.cli.context import connect, send
from wattchain.cli.params import READ, WRITE, Inputs, Param
from wattchain.client import RpcClient


@dataclass(frozen=True)
class Query:
    """A read command. ``path`` is a state query (``module/name``), or with
    ``rpc`` an RPC method. ``data(inputs)`` replaces the fields the params
    give; ``extra(client)`` adds fields read from the node first (the chain's
    time). ``view(value, inputs)`` is the text output (default: pretty JSON); it
    runs before either output is printed, so it may add fields to ``value``."""

    name: str
    path: str
    doc: str
    params: Sequence[Param] = ()
    view: Callable[[Any, Inputs], View] | None = None
    rpc: bool = False
    data: Callable[[Inputs], dict[str, Any]] | None = None
    extra: Callable[[RpcClient], dict[str, Any]] | None = None


@dataclass(frozen=True)
class Send:
    """A tx command: ``module.method`` with ``args(inputs)`` (default: the
    params' values in order, ``--from`` left out). ``spend`` names the param
    whose amount leaves the sender's balance (checked with the fee before
    signing); ``after(answer, inputs)`` prints more once the tx is in."""

    name: str
    module: str
    method: str
    doc: str
    params: Sequence[Param]
    args: Callable[[Inputs], list[Any]] | None = None
    spend: str | None = None
    after: Callable[[Any, Inputs], None] | None = None


@dataclass(frozen=True)
class Custom:
    """A command of neither shape: ``run(**inputs)`` does the work once the output
    format is checked; its docstring is the command's help. ``shared``: the
    shared params it takes (``READ``, ``WRITE`` or ``RELAY``)."""

    name: str
    run: Callable[..., None]
    params: Sequence[Param]
    shared: Sequence[Param] = ()


def query_data(spec: Query, inputs: Inputs) -> dict[str, Any]:
    if spec.data is not None:
        return spec.data(inputs)
    data = {}
    for param in spec.params:
        value = param.value(inputs)
        if value is not None and param.key != "":
            data[param.key or param.name] = value
    return data


def run_query(spec: Query, inputs: Inputs) -> None:
    check_output(inputs["output"])
    data = query_data(spec, inputs)
    with connect(inputs["home"], inputs["node"]) as client:
        if spec.extra is not None:
            data.update(spec.extra(client))
        value = client.call(spec.path, **data) if spec.rpc else client.query(spec.path, **data)
    emit(inputs["output"], value, None if spec.view is None else spec.view(value, inputs))


def run_send(spec: Send, inputs: Inputs) -> None:
    check_output(inputs["output"])
    args = spec.args(inputs) if spec.args is not None else [
        param.value(inputs) for param in spec.params if param.name != "sender"]
    answer = send(inputs["home"], inputs["node"], inputs["sender"], spec.module, spec.method,
                  args, inputs["fee"], inputs["wait"], inputs["output"],
                  spend=inputs[spec.spend] if spec.spend else 0)
    if spec.after is not None:
        spec.after(answer, inputs)


def command(params: Sequence[Param], run: Callable[[Inputs], None], doc: str) -> Any:
    """A typer command with ``params`` as its signature; ``run`` gets the inputs."""

    def function(**inputs: Any) -> None:
        run(inputs)

    function.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter(param.name, inspect.Parameter.KEYWORD_ONLY, default=param.default,
                          annotation=param.annotation) for param in params])
    function.__annotations__ = {param.name: param.annotation for param in params}
    function.__doc__ = doc
    return handle_errors(function)


def run_custom(spec: Custom, inputs: Inputs) -> None:
    if "output" in inputs:
        check_output(inputs["output"])
    spec.run(**inputs)


def add(app: typer.Typer, rows: Sequence[Query | Send | Custom]) -> None:
    """Add each row to ``app`` as a command."""
    for row in rows:
        if isinstance(row, Query):
            app.command(row.name)(command([*row.params, *READ], partial(run_query, row),
                                          row.doc))
        elif isinstance(row, Send):
            app.command(row.name)(command([*row.params, *WRITE], partial(run_send, row),
                                          row.doc))
        else:
            app.command(row.name)(command([*row.params, *row.shared], partial(run_custom, row),
                                          row.run.__doc__ or ""))


def chain_now(client: RpcClient) -> dict[str, Any]:
    """``extra`` of queries that want the chain's time: ``now_ms``."""
    return {"now_ms": client.latest_time_ms()}

