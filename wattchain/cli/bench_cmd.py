"""`wattchain bench`: the benchmark run of bench/run.py, from the CLI.

The benchmarks live in the repository's ``bench/`` directory (next to the
``wattchain`` package in a checkout or an editable install); this command
loads ``bench/run.py`` and runs its ``main`` with the same options.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Annotated

import typer

import wattchain

BENCH_DIR = Path(wattchain.__file__).resolve().parent.parent / "bench"


def bench(
    quick: Annotated[bool, typer.Option("--quick", help="Small counts: a smoke run.")] = False,
    json_file: Annotated[Path | None, typer.Option(
        "--json", help="Also write the figures to this file.")] = None,
    only: Annotated[str | None, typer.Option(
        "--only", help="Comma-separated sections: verify, vm, rpc, sync, testnet, clearing, "
        "metering, flood, overload (not run by default).")] = None,
) -> None:
    """Measure WattChain on this machine: the one-core verify ceiling, the vm,
    RPC, block sync, a 4-validator testnet, clearing and metering."""
    script = BENCH_DIR / "run.py"
    if not script.is_file():
        typer.echo(f"error: {script} not found; `wattchain bench` runs from a source "
                   "checkout of WattChain", err=True)
        raise typer.Exit(2)
    spec = importlib.util.spec_from_file_location("wattchain_bench_run", script)
    if spec is None or spec.loader is None:
        typer.echo(f"error: cannot load {script}", err=True)
        raise typer.Exit(2)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    argv = ["--quick"] if quick else []
    if json_file is not None:
        argv += ["--json", str(json_file)]
    if only is not None:
        argv += ["--only", only]
    raise typer.Exit(module.main(argv))
