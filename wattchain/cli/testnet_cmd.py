"""`wattchain testnet ...`: a local multi-validator network, one process per node."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.live import Live
from rich.table import Table

from wattchain.cli.common import (
    CliError,
    OutputOption,
    check_output,
    console,
    emit,
    handle_errors,
)
from wattchain.cli.testnet_layout import init_testnet
from wattchain.node.config import Home

app = typer.Typer(help="Run a local multi-validator testnet (one process per node).",
                  no_args_is_help=True)

DirOption = Annotated[Path, typer.Option("--dir", help="Testnet directory.")]


def node_homes(directory: Path) -> list[Home]:
    homes = sorted((Home(path.parent.parent) for path in directory.glob("*/config/config.toml")),
                   key=lambda home: (not home.root.name.startswith("node"), home.root.name))
    if not homes:
        raise CliError(f"no testnet in {directory}; run `wattchain testnet init --dir "
                       f"{directory}` first")
    return homes


def read_pid(home: Home) -> int | None:
    try:
        pid = int(home.pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


def rpc_url(home: Home) -> str:
    config = home.load_config()
    return f"http://127.0.0.1:{config.rpc.port}"


@app.command("init")
@handle_errors
def init(
    directory: DirOption = Path("./localnet"),
    validators: Annotated[int, typer.Option(help="Number of validators.")] = 4,
    observers: Annotated[int, typer.Option(help="Full nodes that never vote.")] = 0,
    chain_id: Annotated[str, typer.Option("--chain-id")] = "wattchain-testnet",
    base_p2p_port: Annotated[int, typer.Option(help="p2p port of node0; +10 per node.")]
    = 26656,
    base_rpc_port: Annotated[int, typer.Option(help="RPC port of node0; +10 per node.")]
    = 26657,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing testnet.")]
    = False,
    output: OutputOption = "text",
) -> None:
    """Write keys, a shared genesis (validators named like utilities and DSOs) and a
    config per node; a funded `faucet` test key is in every node's keyring."""
    check_output(output)
    nodes = init_testnet(directory, validators, chain_id=chain_id, observers=observers,
                         base_p2p_port=base_p2p_port, base_rpc_port=base_rpc_port,
                         force=force)
    rows: list[dict[str, Any]] = [
        {"name": n.name, "role": "validator" if n.validator else "observer",
         "p2p": n.p2p_port, "rpc": f"http://127.0.0.1:{n.rpc_port}",
         "peer_id": n.peer_id, "home": str(n.home.root)} for n in nodes]
    table = Table(title=f"testnet {chain_id} in {directory}", title_justify="left")
    for column in ("name", "role", "p2p", "rpc"):
        table.add_column(column)
    for row in rows:
        table.add_row(str(row["name"]), str(row["role"]), str(row["p2p"]), str(row["rpc"]))
    emit(output, rows, table)


def start_nodes(directory: Path) -> list[tuple[str, int, bool]]:
    """Start every node that is not running; return (name, pid, newly started)."""
    started = []
    for home in node_homes(directory):
        pid = read_pid(home)
        if pid is not None:
            started.append((home.root.name, pid, False))
            continue
        log = open(home.root / "node.log", "ab")  # noqa: SIM115 - handed to the child
        process = subprocess.Popen(
            [sys.executable, "-m", "wattchain.cli.main", "node", "start", "--home",
             str(home.root)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        home.pid_file.write_text(f"{process.pid}\n")
        started.append((home.root.name, process.pid, True))
    return started


@app.command("start")
@handle_errors
def start(directory: DirOption = Path("./localnet"), output: OutputOption = "text") -> None:
    """Start every node that is not running, each as its own process (logs in
    <dir>/<node>/node.log)."""
    check_output(output)
    started = start_nodes(directory)
    rows = [{"name": name, "pid": pid, "started": new} for name, pid, new in started]
    emit(output, rows, "\n".join(f"{name}: pid {pid} ({'started' if new else 'running'})"
                                 for name, pid, new in started))


def reap(pid: int) -> None:
    """Collect a node we started ourselves once it exited (else it lingers as a
    zombie that still looks alive); other processes are not ours to collect."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def stop_nodes(directory: Path, timeout_s: float = 15.0) -> list[str]:
    """SIGTERM every running node, wait for all of them (SIGKILL after
    ``timeout_s``), and remove their pid files."""
    running = [(home, pid) for home in node_homes(directory)
               if (pid := read_pid(home)) is not None]
    for _, pid in running:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    for home, pid in running:
        while time.monotonic() < deadline:
            reap(pid)
            if read_pid(home) is None:
                break
            time.sleep(0.05)
        if read_pid(home) is not None:
            os.kill(pid, signal.SIGKILL)
            reap(pid)
        home.pid_file.unlink(missing_ok=True)
    return [home.root.name for home, _ in running]


@app.command("stop")
@handle_errors
def stop(directory: DirOption = Path("./localnet")) -> None:
    """Stop every running node (SIGTERM, then SIGKILL after 15 s)."""
    stopped = stop_nodes(directory)
    console.print(f"stopped {', '.join(stopped)}" if stopped else "no node was running")


def node_status(home: Home, client: httpx.Client) -> dict[str, Any]:
    row: dict[str, Any] = {"name": home.root.name, "pid": read_pid(home),
                           "rpc": rpc_url(home), "height": None, "block_hash": None,
                           "app_hash": None, "peers": None, "round": None}
    if row["pid"] is None:
        return row
    try:
        status = client.post(row["rpc"], json={"jsonrpc": "2.0", "id": 1,
                                               "method": "status"}).json()["result"]
    except (httpx.HTTPError, KeyError, ValueError):
        return row
    sync = status["sync_info"]
    row.update(height=sync["latest_block_height"], block_hash=sync["latest_block_hash"],
               app_hash=sync["latest_app_hash"], peers=status.get("peers"),
               round=status.get("consensus", {}).get("round"),
               catching_up=sync["catching_up"])
    return row


def status_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="testnet", title_justify="left")
    for column in ("name", "pid", "rpc", "height", "round", "peers", "block hash", "app hash"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["name"], str(row["pid"] or "-"), row["rpc"].removeprefix("http://"),
                      str(row["height"] or "-"),
                      str(row["round"] if row["round"] is not None else "-"),
                      str(row["peers"] if row["peers"] is not None else "-"),
                      (row["block_hash"] or "-")[:16], (row["app_hash"] or "-")[:16])
    return table


@app.command("status")
@handle_errors
def status(directory: DirOption = Path("./localnet"), output: OutputOption = "text") -> None:
    """Per node: name, pid, RPC URL, height, round, peers, last block and app hash."""
    check_output(output)
    with httpx.Client(timeout=2.0) as client:
        rows = [node_status(home, client) for home in node_homes(directory)]
    emit(output, rows, status_table(rows))


@app.command("run")
@handle_errors
def run(
    directory: DirOption = Path("./localnet"),
    validators: Annotated[int, typer.Option(help="Validators, if the testnet is new.")] = 4,
) -> None:
    """Create the testnet if needed, start it, and show live status until Ctrl-C;
    then stop every node. Running it again resumes the chain."""
    if not any(directory.glob("*/config/config.toml")):
        init_testnet(directory, validators)
        console.print(f"created a {validators}-validator testnet in {directory}")
    start_nodes(directory)
    console.print(f"nodes started; logs in {directory}/<node>/node.log. "
                  f"RPC of node0: {rpc_url(node_homes(directory)[0])}. Ctrl-C stops.")
    try:
        with httpx.Client(timeout=1.0) as client, Live(console=console,
                                                      refresh_per_second=2) as live:
            while True:
                rows = [node_status(home, client) for home in node_homes(directory)]
                live.update(status_table(rows))
                time.sleep(1.0)
    except KeyboardInterrupt:
        pass
    finally:
        stopped = stop_nodes(directory)
        console.print(f"stopped {', '.join(stopped)}")
