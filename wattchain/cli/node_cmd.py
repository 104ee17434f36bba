"""`wattchain node ...` and `wattchain devnet`: create and run a node."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn

import trio
import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from wattchain.cli.command_table import Custom, Query, add
from wattchain.cli.common import (
    DEFAULT_HOME,
    CliError,
    HomeOption,
    OutputOption,
    check_output,
    console,
    emit,
    error_console,
    handle_errors,
    kv_table,
    node_url,
    progress_bar,
    table,
)
from wattchain.cli.params import HOME, OUTPUT, option
from wattchain.client import Keyring
from wattchain.crypto import PrivateKey, format_address
from wattchain.genesis import load_genesis, save_genesis
from wattchain.genesis.presets import devnet_genesis
from wattchain.node.config import FAUCET_QUEUE_LIMIT, Home, NodeConfig, save_key_file
from wattchain.node.log_limit import install_repeat_limit
from wattchain.node.peer_blocks import PeerBlocks
from wattchain.node.store import StoreError
from wattchain.node.store_repair import Findings, check_home, repair_home
from wattchain.node.store_replay import summary

app = typer.Typer(help="Initialise, start and inspect a node.", no_args_is_help=True)

ChainIdOption = Annotated[str, typer.Option("--chain-id", help="Chain id for the new genesis.")]


def init_home(
    home: Path, chain_id: str, moniker: str, rpc_port: int, force: bool
) -> dict[str, str]:
    """Write config, genesis, node and validator keys, and the devnet faucet key."""
    paths = Home(home)
    if paths.genesis_file.exists() and not force:
        raise CliError(f"{home} is already initialised (use --force to overwrite it)")
    if force and paths.root.exists():
        for sub in ("config", "data", "keyring"):
            shutil.rmtree(paths.root / sub, ignore_errors=True)
    validator = PrivateKey.generate()
    node_key = PrivateKey.generate()
    keyring = Keyring(paths.keyring_dir, backend="test")
    faucet_info, _ = keyring.add("faucet")
    genesis = devnet_genesis(chain_id, [(moniker, validator.public_key, 10)],
                             faucet_info.address)
    config = NodeConfig(moniker=moniker)
    config.rpc.port = rpc_port
    config.mempool.sender_limits = {format_address(faucet_info.address): FAUCET_QUEUE_LIMIT}
    paths.save_config(config)
    save_genesis(genesis, paths.genesis_file)
    save_key_file(paths.validator_key_file, validator)
    save_key_file(paths.node_key_file, node_key)
    return {
        "home": str(home),
        "chain_id": chain_id,
        "validator": format_address(validator.address),
        "faucet": format_address(faucet_info.address),
        "rpc": f"http://127.0.0.1:{rpc_port}",
    }


@app.command("init")
@handle_errors
def init(
    home: HomeOption = DEFAULT_HOME,
    chain_id: ChainIdOption = "wattchain-devnet",
    moniker: Annotated[str, typer.Option(help="This node's name.")] = "node0",
    rpc_port: Annotated[int, typer.Option(help="JSON-RPC port on 127.0.0.1.")] = 26657,
    force: Annotated[bool, typer.Option("--force", help="Wipe and re-create.")] = False,
    output: OutputOption = "text",
) -> None:
    """Create a single-validator devnet home: config.toml, genesis.json, keys.

    A test-keyring key `faucet` holds the admin and issuer roles and a large
    balance (devnet only).
    """
    check_output(output)
    summary = init_home(home, chain_id, moniker, rpc_port, force)
    emit(output, summary, kv_table("node initialised", summary))


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    install_repeat_limit()  # no client can flood the log with one kind of line


def stop_on_damage(failure: StoreError, home: Path) -> NoReturn:
    """Print a damaged store's error and what to do as ONE line; exit 1."""
    error_console.print(f"[bold red]Error:[/] {escape(failure.advice(home))}", soft_wrap=True,
                        highlight=False)
    raise typer.Exit(1)


def start_node(home: Path, log_level: str | None) -> None:
    """Run the node until a signal. A damaged store, found at start or while
    running, stops it with one line on stderr and exit code 1."""
    from wattchain.node.node import Node, run_until_signal

    paths = Home(home)
    config = paths.load_config()
    configure_logging(log_level or config.log_level)
    try:
        node = Node(paths, config)
    except StoreError as exc:
        stop_on_damage(exc, home)
    try:
        trio.run(run_until_signal, node)
    except BaseException:
        if node.storage_failure is None:
            raise
    if node.storage_failure is not None:
        stop_on_damage(node.storage_failure, home)


@app.command("start")
@handle_errors
def start(
    home: HomeOption = DEFAULT_HOME,
    log_level: Annotated[str | None, typer.Option(help="DEBUG, INFO, WARNING.")] = None,
) -> None:
    """Run the node in the foreground until Ctrl-C (or SIGTERM)."""
    start_node(home, log_level)


def status_view(result: Any, inputs: dict[str, Any]) -> Any:
    sync = result["sync_info"]
    return kv_table("node status", {
        "moniker": result["node_info"]["moniker"], "chain id": result["node_info"]["network"],
        "height": str(sync["latest_block_height"]),
        "block hash": sync["latest_block_hash"], "app hash": sync["latest_app_hash"],
        "block time (ms)": str(sync["latest_block_time_ms"]),
        "validator": result["validator_info"]["address"],
        "voting power": str(result["validator_info"]["voting_power"]),
        "consensus": "height {height} round {round} step {step} ({mode})".format(
            **result["consensus"]),
        "validator set": f"{result['consensus']['validators']} validators, total power "
                         f"{result['consensus']['total_power']}",
        "peers": str(result["peers"]),
        "catching up": str(sync["catching_up"]).lower(),
        "mempool": str(result["mempool"]["size"])})


def findings_view(title: str, findings: Findings) -> list[Table | str]:
    rows = [[kind, summary(items)] for kind, items in findings.damage.items()]
    view: list[Table | str] = [table(title, ["kind", "finding"], rows)] if rows else []
    view.extend(f"note: {note}" for note in findings.notes)
    return view


def findings_json(findings: Findings) -> dict[str, Any]:
    return {"damaged": findings.damaged, "damage": findings.damage, "notes": findings.notes}


def scan_progress(bar: Progress, verb: str) -> Callable[[int, int], None]:
    task = bar.add_task(f"{verb} blocks", total=None)
    return lambda height, top: bar.update(task, completed=height, total=top)


def check_store(home: Path, output: str) -> None:
    """Scan a stopped node's whole store: the consensus WAL, every block and
    commit (replayed from genesis with the block-sync checks), every result,
    index entry and state key. Exit code 1 if anything is damaged."""
    paths = Home(home)
    with progress_bar(output == "text") as bar:
        try:
            findings = check_home(paths, load_genesis(paths.genesis_file),
                                  scan_progress(bar, "checking"))
        except StoreError as exc:
            stop_on_damage(exc, home)
    ok = "the store is intact" if not findings.damaged else None
    emit(output, findings_json(findings),
         [*findings_view("damage found", findings), *([ok] if ok else [])])
    if findings.damaged:
        error_console.print(f"[bold red]Error:[/] damage found; run `wattchain node repair "
                            f"--home {escape(str(home))}`", soft_wrap=True, highlight=False)
        raise typer.Exit(1)


def repair_store(home: Path, peer: list[str] | None, output: str) -> None:
    """Rebuild a stopped node's store: state, results and indexes by replaying
    its blocks from genesis (each checked against its commit; the app hash of
    every height must come out as recorded), blocks it lacks fetched from
    --peer nodes' RPC. A damaged WAL is moved aside. Refuses, changing
    nothing, if blocks are lost and no peer gives them."""
    paths = Home(home)
    with progress_bar(output == "text") as bar, PeerBlocks(peer or []) as fetch:
        try:
            findings = repair_home(paths, load_genesis(paths.genesis_file),
                                   fetch if peer else None, scan_progress(bar, "replaying"))
        except StoreError as exc:
            stop_on_damage(exc, home)
    done = "nothing to repair" if not findings.damaged else "repaired"
    emit(output, {"repaired": findings.damaged, **findings_json(findings)},
         [*findings_view("repaired", findings), done])


PEER = option("peer", list[str] | None, "RPC URL of a node of this chain to fetch missing "
              "blocks from; repeat for more.", default=None)

add(app, [Query("status", "status", "Height, hashes, validator and mempool of a running node.",
                (), status_view, rpc=True),
          Custom("check", check_store, (HOME, OUTPUT)),
          Custom("repair", repair_store, (HOME, PEER, OUTPUT))])


def devnet(
    home: HomeOption = Path("./localnet"),
    chain_id: ChainIdOption = "wattchain-devnet",
    log_level: Annotated[str | None, typer.Option(help="DEBUG, INFO, WARNING.")] = None,
) -> None:
    """Create (if needed) and start a single-validator devnet in --home."""
    paths = Home(home)
    if not paths.genesis_file.exists():
        summary = init_home(home, chain_id, "node0", 26657, force=False)
        console.print(kv_table("devnet initialised", summary))
    console.print(
        f"[bold]WattChain devnet[/] home={home}  rpc={node_url(home, None)}\n"
        f"  try:  wattchain keys add bob --home {home} --keyring-backend test\n"
        f"        wattchain tx transfer --from faucet --to bob --amount 1000000 --home {home}\n"
        f"        wattchain query balance bob --home {home}\n"
        "  Ctrl-C stops the node; running again resumes the chain."
    )
    start_node(home, log_level)


devnet = handle_errors(devnet)
