"""`wattchain demo`: a 4-validator testnet with a simulated energy community.

What ``make run`` starts. The first run creates the testnet in ``--dir``
with a genesis made for the demo (accelerated intervals, the community's
accounts and roles); later runs resume the same chain and community. The
community (``wattchain.sim``) needs the ``sim`` extra (``pip install
'.[sim]'``; the Makefile installs it).
"""

from __future__ import annotations

import json
import sys
import time
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.live import Live
from rich.progress import Progress

from wattchain.cli.common import CliError, console, handle_errors
from wattchain.cli.testnet_cmd import node_homes, rpc_url, start_nodes, stop_nodes
from wattchain.cli.testnet_layout import init_testnet
from wattchain.genesis import Genesis

TOKEN = 1_000_000
ROLES = {"dso": ["dso"], "certifier": ["certifier"], "meter_operator": ["meter_operator"],
         "oracle": ["oracle"]}
BALANCES = {"dso": 100_000 * TOKEN, "household": 10_000 * TOKEN, "business": 50_000 * TOKEN,
            "plant": 10_000 * TOKEN}


def demo_genesis(community: Any, interval_ms: int, genesis: Genesis) -> None:
    """Accelerated intervals, the market timings that fit them, and every member's
    account with its roles."""
    genesis.params["interval_ms"] = interval_ms
    accounts = genesis.app_state["accounts"]["accounts"]
    for member in community.members:
        roles = list(ROLES.get(member.role, []))
        if member.assets:
            roles.append("producer")
        accounts.append({"address": "0x" + member.key.address.hex(),
                         "balance": BALANCES.get(member.role, 1_000 * TOKEN), "nonce": 0,
                         "roles": roles})
    day_ms = 96 * interval_ms  # a simulated day: 96 slots of 15 minutes
    genesis.app_state["trading"] = {"params": {
        "gate_closure_ms": interval_ms // 3, "settlement_delay_ms": interval_ms // 2}}
    genesis.app_state["balancing"] = {"params": {
        "record_delay_ms": interval_ms // 3, "season_ms": day_ms, "retain_ms": 2 * day_ms,
        "oracle_max_age_ms": 3 * interval_ms, "frequency_max_age_ms": 3 * interval_ms,
        "auto_emergency_ms": 8 * interval_ms}}
    genesis.app_state["oracle"] = {"params": {"round_ms": interval_ms, "quorum": 2,
                                              "window_rounds": 5, "outlier_percent": 20}}


SERVICE_ROLES = ("dso", "certifier", "meter_operator", "gateway", "oracle")


def allow_service_batches(directory: Path, community: Any) -> None:
    """The community's services send whole batches at once (every meter, every
    approval of a zone): each node's mempool gives them a gateway's queue limit."""
    limits = {"0x" + member.key.address.hex(): 1_000 for member in community.members
              if member.role in SERVICE_ROLES}
    for home in node_homes(directory):
        config = home.load_config()
        config.mempool.sender_limits.update(limits)
        home.save_config(config)


def wait_for_nodes(urls: list[str], timeout_s: float = 90.0) -> None:
    """Until every node answers and the chain makes blocks."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=2.0) as client:
        for url in urls:
            while True:
                try:
                    status = client.post(url, json={"jsonrpc": "2.0", "id": 1,
                                                    "method": "status"}).json()["result"]
                    if status["sync_info"]["latest_block_height"] >= 1:
                        break
                except (httpx.HTTPError, KeyError, ValueError):
                    pass
                if time.monotonic() > deadline:
                    raise CliError(f"the node at {url} did not come up in {timeout_s:.0f} s; "
                                   "see its node.log")
                time.sleep(0.5)


def sleep_until(wall_ms: int) -> None:
    delay = wall_ms / 1000 - time.time()
    if delay > 0:
        time.sleep(delay)


@handle_errors
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Testnet directory (created if "
                                            "missing, resumed otherwise).")] = Path("./localnet"),
    validators: Annotated[int, typer.Option(help="Validators of a new testnet.")] = 4,
    interval_s: Annotated[int, typer.Option(
        "--interval-s", help="Wall seconds per market interval of a new testnet; each plays "
                             "15 minutes of the real profiles.")] = 15,
    households: Annotated[int, typer.Option(help="Households of a new community.")] = 40,
    seed: Annotated[int, typer.Option(help="Seed of a new community.")] = 7,
    headless: Annotated[bool, typer.Option(
        "--headless", help="No dashboard: one JSON line per interval on stdout.")] = False,
    intervals: Annotated[int | None, typer.Option(
        "--intervals", help="Stop after this many intervals (default: until Ctrl-C).")] = None,
    emergency_at: Annotated[int, typer.Option(
        help="Interval of this run at which the north DSO declares its feeder "
             "islanded.")] = 6,
    emergency_for: Annotated[int, typer.Option(help="Intervals until the all-clear.")] = 4,
    keep_running: Annotated[bool, typer.Option(
        "--keep-running", help="Leave the nodes running on exit.")] = False,
    base_port: Annotated[int, typer.Option(
        help="P2P port of node0 of a new testnet; its RPC is the next port, and each "
             "further node adds 10.")] = 26656,
) -> None:
    """Run the demo energy community on a local multi-validator testnet.

    Households, businesses and plants in two grid zones trade energy; meters
    stream signed readings; oracles feed weather and prices; balancing
    dispatches batteries and EV chargers; mid-run the north DSO declares its
    feeder islanded and later gives the all-clear. A live dashboard shows it all (Ctrl-C
    stops the nodes; running the command again resumes the chain).
    """
    try:
        from wattchain.sim.community import Community
        from wattchain.sim.demo import Demo, DemoError, DemoState
    except ImportError as exc:
        raise CliError(f"the demo needs the sim extra ({exc.name} is missing): "
                       "pip install -e '.[sim]' (make run installs it)") from None
    if interval_s < 2:
        raise CliError("--interval-s must be at least 2")
    state_path = directory / "demo.json"
    state = DemoState.load(state_path)
    fresh = not any(directory.glob("*/config/config.toml"))
    if fresh:
        state = DemoState(seed, households, interval_s * 1000)
    elif state is None:
        raise CliError(f"{directory} holds a testnet not made by `wattchain demo` (no "
                       f"demo.json): pass another --dir, or remove it (rm -rf {directory}) "
                       "to start the demo there")
    assert state is not None
    log = sys.stderr if headless else None
    with Progress(console=console, transient=True, disable=headless) as progress:
        task = progress.add_task("loading the community profiles", total=None)
        community = Community(state.seed, state.households, state.interval_ms)
        if fresh:
            progress.update(task, description=f"creating a {validators}-validator testnet")
            init_testnet(directory, validators, base_p2p_port=base_port,
                         base_rpc_port=base_port + 1,
                         configure_genesis=partial(demo_genesis, community, state.interval_ms))
            allow_service_batches(directory, community)
            state.save(state_path)
        progress.update(task, description="starting the nodes")
        start_nodes(directory)
        urls = [rpc_url(home) for home in node_homes(directory)]
        try:
            wait_for_nodes(urls)
            progress.remove_task(task)
            first = Demo(urls, community, state, state_path)
            first.setup(progress)
        except DemoError as exc:
            if not keep_running:
                stop_nodes(directory)
            raise CliError(f"setting up the community failed: {exc}") from None
        except BaseException:
            if not keep_running:
                stop_nodes(directory)
            raise
    if log is not None:
        print(f"testnet in {directory}: {len(urls)} nodes, RPC {urls[0]}", file=log)
    try:
        run(first, state, state_path, headless, intervals, emergency_at, emergency_for)
    except KeyboardInterrupt:
        pass
    finally:
        if not keep_running:
            stopped = stop_nodes(directory)
            if not headless:
                console.print(f"stopped {', '.join(stopped)}; `make run` resumes the chain")


def run(demo: Any, state: Any, state_path: Path, headless: bool, intervals: int | None,
        emergency_at: int, emergency_for: int) -> None:
    """Play intervals until ``intervals`` were played (or Ctrl-C)."""
    from wattchain.sim.dashboard import render
    from wattchain.sim.demo import Scenario, headless_line

    interval = state.interval_ms
    next_start = demo.next_boundary(1)
    if state.t0_ms == 0:
        state.t0_ms = next_start
        state.save(state_path)
    first_index = demo.slot(next_start)
    demo.scenario = Scenario(first_index + emergency_at, emergency_for)
    played = 0
    live = None if headless else Live(render({}), console=console, refresh_per_second=2,
                                      screen=False)
    if live is not None:
        live.start()
    try:
        last = time.monotonic()
        while intervals is None or played < intervals:
            sleep_until(next_start + 300)
            demo.step(next_start)
            sleep_until(next_start + interval * 3 // 4)
            now = time.monotonic()
            snapshot = demo.snapshot(next_start, now - last)
            last = now
            if live is not None:
                live.update(render(snapshot))
            else:
                line = headless_line(snapshot, demo.app_hashes_agree())
                print(json.dumps(line), flush=True)
            played += 1
            next_start += interval
            behind = int(time.time() * 1000) - next_start
            if behind > interval // 2:  # this machine fell behind: skip to the next boundary
                next_start += (behind // interval + 1) * interval
    finally:
        if live is not None:
            live.stop()
