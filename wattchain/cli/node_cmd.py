"""`wattchain node ...` and `wattchain devnet`: create and run a node."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Annotated, Any

import trio
import typer

from wattchain.cli.command_table import Query, add
from wattchain.cli.common import (
    DEFAULT_HOME,
    CliError,
    HomeOption,
    OutputOption,
    check_output,
    console,
    emit,
    handle_errors,
    kv_table,
    node_url,
)
from wattchain.client import Keyring
from wattchain.crypto import PrivateKey, format_address
from wattchain.genesis import save_genesis
from wattchain.genesis.presets import devnet_genesis
from wattchain.node.config import FAUCET_QUEUE_LIMIT, Home, NodeConfig, save_key_file
from wattchain.node.log_limit import install_repeat_limit

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


def start_node(home: Path, log_level: str | None) -> None:
    from wattchain.node.node import Node, run_until_signal

    paths = Home(home)
    config = paths.load_config()
    configure_logging(log_level or config.log_level)
    node = Node(paths, config)
    trio.run(run_until_signal, node)


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


add(app, [Query("status", "status", "Height, hashes, validator and mempool of a running node.",
                (), status_view, rpc=True)])


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
