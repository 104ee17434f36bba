"""WattChain benchmarks: one run, figures printed as a table (and JSON).

    python bench/run.py            # full run (or: wattchain bench)
    python bench/run.py --quick    # a smoke run with small counts
    python bench/run.py --json out.json --only verify,vm,sync

Sections: verify (the one-core ceiling), vm, rpc, sync (block sync replay),
testnet (4 validators, bench/load.py), overload (that testnet at 1x, 2x and
4x a sustainable rate; only with --only overload), clearing, metering, flood (a mempool flood,
bench/flood.py).

Figures vary run to run on a shared machine: compare them as ratios within
one run (every throughput is also shown as a ratio to the verify ceiling).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from wattchain.crypto import PrivateKey, format_address, recover_signer
from wattchain.genesis import Genesis
from wattchain.genesis.presets import devnet_genesis
from wattchain.types import VOTE_PRECOMMIT, Commit, CommitSig, SignedTx, Tx, Vote, sign_tx

CHAIN_ID = "wattchain-bench"
console = Console(stderr=True)


def signed_transfers(count: int, senders: int, chain_id: str = CHAIN_ID,
                     funder: PrivateKey | None = None) -> tuple[list[SignedTx], list[PrivateKey]]:
    """``count`` transfers spread over ``senders`` funded keys (round robin)."""
    keys = [PrivateKey((i + 1).to_bytes(32, "big")) for i in range(senders)]
    recipient = PrivateKey(b"\x42" * 32).address
    nonces = [0] * senders
    txs = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("signing transfers", total=count)
        for index in range(count):
            which = index % senders
            tx = Tx(chain_id, keys[which].address, nonces[which], 10, "accounts", "transfer",
                    [recipient, 1])
            nonces[which] += 1
            txs.append(sign_tx(tx, keys[which]))
            if index % 1000 == 0:
                progress.update(task, completed=index)
    return txs, keys


def bench_genesis(keys: list[PrivateKey], validator: PrivateKey) -> Genesis:
    genesis = devnet_genesis(CHAIN_ID, [("bench", validator.public_key, 10)],
                             PrivateKey(b"\x01" * 32).address)
    accounts = genesis.app_state["accounts"]["accounts"]
    accounts.extend({"address": "0x" + k.address.hex(), "balance": 10**12, "nonce": 0,
                     "roles": []} for k in keys if k.address.hex() not in str(accounts))
    genesis.params["max_block_txs"] = 5000
    return genesis


# -- ceiling --------------------------------------------------------------------


def bench_verify(count: int) -> dict[str, Any]:
    """secp256k1 on one core: recovery (what the vm does) and plain verify."""
    from coincurve import PrivateKey as RawKey

    key = PrivateKey(b"\x07" * 32)
    digests = [os.urandom(32) for _ in range(count)]
    signatures = [key.sign_digest(d) for d in digests]
    started = time.perf_counter()
    for digest, signature in zip(digests, signatures, strict=True):
        recover_signer(signature, digest)
    recover_rate = count / (time.perf_counter() - started)
    raw = RawKey(b"\x07" * 32)
    public = raw.public_key
    der = [raw.sign(d, hasher=None) for d in digests]
    started = time.perf_counter()
    for digest, signature in zip(digests, der, strict=True):
        public.verify(signature, digest, hasher=None)
    verify_rate = count / (time.perf_counter() - started)
    return {"recover_per_s": recover_rate, "verify_per_s": verify_rate}


# -- single node through the vm -------------------------------------------------


def bench_vm(count: int, block_txs: int = 5000) -> dict[str, Any]:
    """Signed transfers through mempool check (decode + verify), block execution
    and one synced LevelDB batch per block: on one core, then with signatures
    verified on every core (``verify_threads``, the node's default)."""
    figures: dict[str, Any] = {}
    for threads in (1, os.cpu_count() or 1):
        with tempfile.TemporaryDirectory() as directory:
            chain, seconds = build_chain(Path(directory), count, block_txs, threads)
            committed = chain.height
            failed = sum(1 for h in range(1, committed + 1)
                         for r in (chain.store.results(h) or ([], []))[0] if r.code)
            chain.close()
        elapsed = seconds["check"] + seconds["execute"]
        if threads == 1:
            figures.update({"transfers": count, "blocks": committed, "failed": failed,
                            "transfers_per_s": count / elapsed,
                            "check_tx_per_s": count / seconds["check"],
                            "execute_commit_per_s": count / seconds["execute"]})
        else:
            figures[f"transfers_per_s_{threads}_verify_threads"] = count / elapsed
            figures["failed"] += failed
    return figures


def bench_sync(count: int, block_txs: int = 5000) -> dict[str, Any]:
    """Block sync replay: a fresh node applies stored blocks as block sync does
    (decode, check the commit, validate, execute with every signature verified,
    one synced batch per block)."""
    from wattchain.consensus.safety import MemorySignGuard
    from wattchain.node.chain import Chain
    from wattchain.node.consensus_runner import ConsensusRunner
    from wattchain.node.mempool import MempoolLimits
    from wattchain.types import Block

    with tempfile.TemporaryDirectory() as directory:
        source, _ = build_chain(Path(directory), count, block_txs)
        stored = [(source.store.block_bytes(h), source.store.commit(h))
                  for h in range(1, source.height + 1)]
        app_hash, genesis = source.tip.app_hash, source.genesis
        source.close()
        threads = os.cpu_count() or 1
        replica = Chain(Path(directory) / "replica.db", genesis,
                        MempoolLimits(verify_threads=threads))
        runner = ConsensusRunner(replica, None, MemorySignGuard(), lambda: 0)
        started = time.perf_counter()
        for raw, commit in stored:
            if raw is None or commit is None:
                raise RuntimeError("the source chain lost a block")
            runner.commit_synced(Block.decode(raw), commit)
        elapsed = time.perf_counter() - started
        same = replica.tip.app_hash == app_hash
        replica.close()
    if not same:
        raise RuntimeError("the replayed chain reached a different app hash")
    return {"blocks": len(stored), "transfers": count, "verify_threads": threads,
            "replayed_per_s": count / elapsed}


def commit_block(chain: Any, validator: PrivateKey) -> None:
    """Propose, decide (one validator) and commit the next block. Block times
    follow the BFT time rule, so a replica accepts these blocks in block sync."""
    height = chain.height + 1
    last_commit = chain.store.commit(chain.height)
    if last_commit is None:
        time_ms = chain.genesis.genesis_time_ms + 1
    else:
        time_ms = max(last_commit.signatures[0].timestamp_ms, chain.tip.time_ms + 1)
    block = chain.propose_block(height, time_ms, validator.address, last_commit)
    block_hash = block.hash()
    vote_ms = time_ms + 1000
    vote = Vote(VOTE_PRECOMMIT, height, 0, block_hash, vote_ms, validator.address)
    signature = validator.sign_digest(vote.sign_digest(chain.chain_id))
    chain.finalize_and_commit(block, Commit(height, 0, block_hash,
                                            [CommitSig(validator.address, vote_ms, signature)]))


def build_chain(directory: Path, count: int, block_txs: int = 5000,
                threads: int = 1) -> tuple[Any, dict[str, float]]:
    """A chain of ``count`` signed transfers in blocks of ``block_txs``, each
    checked (decode + verify) and committed as a node does; with timings.
    Txs arrive in batches of 100, as from an RPC batch or a gossip batch;
    ``threads`` > 1 verifies each batch's signatures on that many threads."""
    from wattchain.node.chain import Chain
    from wattchain.node.mempool import MempoolLimits
    from wattchain.node.node import tune_gc

    txs, keys = signed_transfers(count, senders=max(1, count // 100))
    validator = PrivateKey(b"\x09" * 32)
    # The senders stand for gateways: each queues many txs ahead at once.
    limits = MempoolLimits(verify_threads=threads,
                           sender_limits={key.address: 10_000 for key in keys})
    chain = Chain(directory / "chain.db", bench_genesis(keys, validator), limits)
    tune_gc()  # as `wattchain node start` does
    check_seconds = execute_seconds = 0.0
    for offset in range(0, count, block_txs):
        begin = time.perf_counter()
        for start in range(offset, min(count, offset + block_txs), 100):
            batch = [stx.raw for stx in txs[start:start + 100]]
            chain.preverify(batch)
            for raw in batch:
                chain.check_tx(raw)
        middle = time.perf_counter()
        commit_block(chain, validator)
        check_seconds += middle - begin
        execute_seconds += time.perf_counter() - middle
    return chain, {"check": check_seconds, "execute": execute_seconds}


# -- end to end through RPC ------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_node(directory: Path, keys: list[PrivateKey]) -> tuple[subprocess.Popen[bytes], str]:
    from wattchain.genesis import save_genesis
    from wattchain.node.config import Home, NodeConfig, save_key_file

    validator = PrivateKey(b"\x09" * 32)
    home = Home(directory)
    port = free_port()
    config = NodeConfig(moniker="bench")
    config.rpc.port = port
    config.rpc.rate_limit_per_second = 0
    config.producer.min_block_interval_ms = 250
    config.mempool.max_txs = 200_000
    # The senders stand for gateways: each queues many txs ahead at once.
    config.mempool.sender_limits = {format_address(key.address): 10_000 for key in keys}
    home.save_config(config)
    save_genesis(bench_genesis(keys, validator), home.genesis_file)
    save_key_file(home.validator_key_file, validator)
    url = f"http://127.0.0.1:{port}"
    log = open(directory / "node.log", "wb")  # noqa: SIM115 - lives as long as the node
    process = subprocess.Popen([sys.executable, "-m", "wattchain.cli.main", "node", "start",
                                "--home", str(directory), "--log-level", "WARNING"],
                               stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "health"}, timeout=1)
            return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the bench node did not start")


def bench_rpc(count: int, batch: int = 100) -> dict[str, Any]:
    """Transfers submitted as JSON-RPC batches of broadcast_tx_sync, timed from the
    first submission until every one is in a committed block."""
    txs, keys = signed_transfers(count, senders=max(1, count // 200))
    payloads = [[{"jsonrpc": "2.0", "id": i, "method": "broadcast_tx_sync",
                  "params": {"tx": base64.b64encode(stx.raw).decode()}}
                 for i, stx in enumerate(txs[offset:offset + batch])]
                for offset in range(0, count, batch)]
    with tempfile.TemporaryDirectory() as directory:
        process, url = start_node(Path(directory), keys)
        try:
            with httpx.Client(timeout=60) as client:
                started = time.perf_counter()
                rejected = 0
                for payload in payloads:
                    answers = client.post(url, json=payload).json()
                    rejected += sum(1 for a in answers if a["result"]["code"] != 0)
                submitted = time.perf_counter()
                last = txs[-1].tx_id.hex()
                while not _committed(client, url, last):
                    time.sleep(0.01)
                elapsed = time.perf_counter() - started
                height = _call(client, url, "status")["result"]["sync_info"]["latest_block_height"]
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(20)
    return {"transfers": count, "rejected": rejected, "blocks": height,
            "submit_per_s": count / (submitted - started), "committed_per_s": count / elapsed}


def _call(client: httpx.Client, url: str, method: str, **params: Any) -> Any:
    return client.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                  "params": params}).json()


def _committed(client: httpx.Client, url: str, tx_hash: str) -> bool:
    return "result" in _call(client, url, "tx", hash=tx_hash)


# -- report -----------------------------------------------------------------------


def bench_testnet(quick: bool) -> dict[str, Any]:
    """A 4-validator testnet under open-loop load at several offered rates
    (bench/load.py): achieved rates, latency, CPU per node and of the generator."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from load import run_rates

    rates = [300] if quick else [1_000, 5_000, 10_000]
    figures: dict[str, Any] = {}
    for result in run_rates(rates, 2.0 if quick else 15.0):
        prefix = f"at_{result.offered_per_s}"
        figures[f"{prefix}_offered_per_s"] = result.achieved_offer_per_s
        figures[f"{prefix}_sustained_committed_per_s"] = result.sustained_per_s
        figures[f"{prefix}_committed_incl_drain_per_s"] = result.committed_per_s
        figures[f"{prefix}_p50_ms"] = result.p50_ms
        figures[f"{prefix}_p99_ms"] = result.p99_ms
        figures[f"{prefix}_cpu_percent_per_node"] = [round(c) for c in
                                                     result.cpu_percent_per_node]
        figures[f"{prefix}_cpu_percent_generator"] = round(result.cpu_percent_generator)
    return figures


def bench_overload(quick: bool) -> dict[str, Any]:
    """Goodput under overload (issue 15): the 4-validator testnet offered 1x, 2x
    and 4x a sustainable rate (WATTCHAIN_BENCH_SUSTAINABLE, default 2,000 tx/s on
    a shared machine); committed tx/s inside the offer window, its ratio to the
    best point, p99 of the ADMITTED txs (busy refusals are retried after their
    Retry-After and count from the admitting send), and the busy refusals."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from load import run_rates

    base = int(os.environ.get("WATTCHAIN_BENCH_SUSTAINABLE", "300" if quick else "2000"))
    results = run_rates([base, 2 * base, 4 * base], 3.0 if quick else 15.0, base_port=46100)
    peak = max(result.sustained_per_s for result in results) or 1.0
    figures: dict[str, Any] = {"sustainable_per_s": base}
    for factor, result in zip((1, 2, 4), results, strict=True):
        prefix = f"x{factor}"
        figures[f"{prefix}_offered_per_s"] = result.offered_per_s
        figures[f"{prefix}_admitted_per_s"] = result.achieved_offer_per_s
        figures[f"{prefix}_committed_per_s"] = result.sustained_per_s
        figures[f"{prefix}_committed_of_peak"] = round(result.sustained_per_s / peak, 3)
        figures[f"{prefix}_p50_ms"] = result.p50_ms
        figures[f"{prefix}_p99_ms"] = result.p99_ms
        figures[f"{prefix}_busy_refusals"] = result.busy_refusals
    return figures


def bench_clearing(quick: bool) -> dict[str, Any]:
    """The uniform-price double auction on random books of 1k, 10k and 100k orders."""
    import random

    from wattchain.modules.trading.clearing import Order, clear

    figures: dict[str, Any] = {}
    for size in (1_000, 10_000, 100_000):
        rng = random.Random(size)
        half = size // 2
        bids = [Order(i, rng.randint(50_000, 150_000), rng.randint(100, 5_000))
                for i in range(half)]
        offers = [Order(half + i, rng.randint(40_000, 140_000), rng.randint(100, 5_000))
                  for i in range(size - half)]
        started = time.perf_counter()
        clear(bids, offers)
        elapsed = time.perf_counter() - started
        figures[f"orders_{size}_seconds"] = round(elapsed, 4)
        figures[f"orders_{size}_cleared_per_s"] = size / elapsed
    return figures


def bench_flood(quick: bool) -> dict[str, Any]:
    """Issue 15's flood at one chain's mempool (bench/flood.py): 200,000 transfers
    from 2,000 senders, one in ten with a nonce gap, at twice a block's worth per
    height; then how many heights a fresh sender's transfer takes to commit."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from flood import flood_txs, run_flood

    from wattchain.node.mempool import MempoolLimits

    scale = 10 if quick else 1
    block_txs = 5_000 // scale
    txs, keys = flood_txs(200_000 // scale, 2_000 // scale, 0.1)
    with tempfile.TemporaryDirectory() as directory:
        result = run_flood(Path(directory), txs, keys, per_height=2 * block_txs,
                           block_txs=block_txs, limits=MempoolLimits(max_txs=50_000 // scale))
    sizes = [size for _, size in result.pool_by_height]
    return {"transfers": result.submitted, "admitted": result.admitted,
            "committed": result.committed, "evicted": sum(result.evicted.values()),
            "largest_pool": max(sizes),
            "pool_at_flood_end": dict(result.pool_by_height)[result.flood_end_height],
            "pool_size_by_height": sizes,
            "fresh_sender_latency_heights": result.fresh_latency_heights or -1,
            "worst_fresh_sender_latency_during_flood": result.worst_probe_latency() or -1}


def bench_metering(quick: bool) -> dict[str, Any]:
    """Readings verified per second in a gateway batch of 100 (bench/metering_batch.py)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from metering_batch import measure

    batches = 3 if quick else 20
    accepted, elapsed = measure(batches, 100)
    return {"batch_size": 100, "batches": batches, "readings_accepted": accepted,
            "readings_verified_per_s": accepted / elapsed}


SECTIONS: dict[str, Callable[[bool], dict[str, Any]]] = {
    "verify": lambda quick: bench_verify(2_000 if quick else 50_000),
    "vm": lambda quick: bench_vm(2_000 if quick else 50_000),
    "rpc": lambda quick: bench_rpc(1_000 if quick else 20_000),
    "sync": lambda quick: bench_sync(2_000 if quick else 50_000, 1_000 if quick else 5_000),
    "testnet": bench_testnet,
    "overload": bench_overload,
    "clearing": bench_clearing,
    "metering": bench_metering,
    "flood": bench_flood,
}


# overload starts its own testnet and runs three offered rates: only when asked for
DEFAULT_SECTIONS = [name for name in SECTIONS if name != "overload"]


def report(results: dict[str, dict[str, Any]]) -> Table:
    ceiling = results.get("verify", {}).get("recover_per_s")
    table = Table(title="WattChain benchmarks (this machine, this run)", title_justify="left")
    for column in ("section", "figure", "value", "ratio to verify ceiling"):
        table.add_column(column)
    for section, figures in results.items():
        for name, value in figures.items():
            ratio = ""
            if ceiling and "per_s" in name:
                ratio = f"{value / ceiling:.2f}"
            if isinstance(value, list):
                shown = " / ".join(f"{item:,}" for item in value)
            elif isinstance(value, float) and value < 10:
                shown = f"{value:.3f}"
            else:
                shown = f"{value:,.0f}" if isinstance(value, (int, float)) else str(value)
            table.add_row(section, name, shown, ratio)
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small counts (smoke test)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--only", default=",".join(DEFAULT_SECTIONS),
                        help=f"comma-separated sections of {', '.join(SECTIONS)} "
                        "(all but overload by default)")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown:
        parser.error(f"unknown sections: {', '.join(unknown)}")
    results: dict[str, dict[str, Any]] = {}
    for name in chosen:
        console.print(f"[bold]{name}[/] ...")
        results[name] = SECTIONS[name](args.quick)
    output = Console()
    if not output.is_terminal:
        output = Console(width=120)  # a file or a pipe: no wrapping of the table
    output.print(report(results))
    if args.json:
        args.json.write_text(json.dumps({"quick": args.quick, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
