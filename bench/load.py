"""Open-loop load against a local 4-validator testnet of real processes.

The generator submits signed transfers at a fixed offered rate, whatever the
chain does (open loop), as a busy gateway would: JSON-RPC batches of up to
100 broadcast_tx_sync calls, spread over the validators, one sender thread
per validator, every tx signed and encoded before the window. A watcher follows
node0's blocks and stamps each tx with the time its block appeared, giving
submission-to-commit latency of the txs the node admitted. A batch refused as
busy (HTTP 503, JSON-RPC -32009) is sent again after its retry_after_ms, as a
well-behaved gateway would (its senders' later nonces depend on it), so an
overloaded testnet holds the generator back instead of queueing without end.
CPU use per node comes from /proc.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from wattchain.cli.testnet_layout import TestnetNode, init_testnet
from wattchain.crypto import PrivateKey, format_address
from wattchain.types import Tx, sign_tx

CHAIN_ID = "wattchain-load"
BATCH = 100
TICK_S = 0.05


@dataclass
class RateResult:
    offered_per_s: int
    achieved_offer_per_s: float
    committed: int
    committed_per_s: float  # all commits over offer start .. last commit (drain included)
    sustained_per_s: float  # commits inside the offer window, after a warm-up
    p50_ms: float
    p99_ms: float
    cpu_percent_per_node: list[float]
    cpu_percent_generator: float
    busy_refusals: int = 0  # batches refused as busy (each sent again later)

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class LoadTestnet:
    def __init__(self, directory: Path, senders: list[PrivateKey], base_port: int) -> None:
        self.nodes: list[TestnetNode] = init_testnet(
            directory, 4, chain_id=CHAIN_ID, base_p2p_port=base_port, base_rpc_port=base_port + 1,
            extra_accounts=[(key.address, 10**15) for key in senders])
        self.processes: list[subprocess.Popen[bytes]] = []
        for node in self.nodes:
            config = node.home.load_config()
            config.rpc.rate_limit_per_second = 0
            config.producer.min_block_interval_ms = 250
            config.mempool.max_txs = 200_000
            # The senders stand for gateways: each queues many txs ahead at once.
            config.mempool.sender_limits = {format_address(key.address): 10_000
                                            for key in senders}
            # Four validators share this machine's cores: none is idle for a
            # batch's signatures, so each node verifies on its own thread.
            config.mempool.verify_threads = 1
            node.home.save_config(config)

    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{node.rpc_port}" for node in self.nodes]

    def start(self) -> None:
        profile_dir = os.environ.get("WATTCHAIN_BENCH_PROFILE")  # cProfile node1 into it
        for index, node in enumerate(self.nodes):
            log = open(node.home.root / "node.log", "ab")  # noqa: SIM115
            profile = (["-m", "cProfile", "-o", str(Path(profile_dir) / "node1.prof")]
                       if profile_dir and index == 1 else [])
            self.processes.append(subprocess.Popen(
                [sys.executable, *profile, "-m", "wattchain.cli.main", "node", "start", "--home",
                 str(node.home.root), "--log-level", "WARNING"],
                stdout=log, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 60
        with httpx.Client(timeout=2) as client:
            while time.monotonic() < deadline:
                try:
                    heights = [client.post(url, json={"jsonrpc": "2.0", "id": 1,
                                                      "method": "status"}).json()["result"]
                               ["sync_info"]["latest_block_height"] for url in self.urls()]
                    if min(heights) >= 2:
                        return
                except (httpx.HTTPError, KeyError):
                    pass
                time.sleep(0.2)
        raise RuntimeError("the load testnet did not start")

    def stop(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()


class BlockWatcher(threading.Thread):
    """Follows node0's blocks; records when each tx hash was first seen committed."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.committed_at: dict[str, float] = {}
        self.stop_event = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=10) as client:
            height = self._call(client, "status")["sync_info"]["latest_block_height"]
            while not self.stop_event.is_set():
                tip = self._call(client, "status")["sync_info"]["latest_block_height"]
                while height < tip:
                    height += 1
                    block = self._call(client, "block", height=height)["block"]
                    now = time.monotonic()
                    for tx in block["txs"]:
                        tx_hash = hashlib.sha256(base64.b64decode(tx)).hexdigest()
                        self.committed_at.setdefault(tx_hash, now)
                time.sleep(0.02)

    def _call(self, client: httpx.Client, method: str, **params: Any) -> Any:
        return client.post(self.url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                           "params": params}).json()["result"]


def presign(senders: list[PrivateKey], nonces: list[int], count: int) -> list[tuple[int, bytes]]:
    """``count`` transfers as (sender index, raw), round robin over the senders."""
    recipient = PrivateKey(b"\x55" * 32).address
    txs = []
    for index in range(count):
        which = index % len(senders)
        key = senders[which]
        tx = Tx(CHAIN_ID, key.address, nonces[which], 10, "accounts", "transfer", [recipient, 1])
        nonces[which] += 1
        txs.append((which, sign_tx(tx, key).raw))
    return txs


Request = tuple[int, bytes, list[str]]  # node index, JSON body, tx hashes


def prepare(txs: list[tuple[int, bytes]], rate: int, nodes: int) -> list[list[Request]]:
    """Per tick, the ready-made JSON-RPC batch bodies (so sending costs no encoding)."""
    per_tick = max(1, int(rate * TICK_S))
    ticks = []
    for offset in range(0, len(txs), per_tick):
        by_node: dict[int, list[bytes]] = {}
        for which, raw in txs[offset:offset + per_tick]:
            by_node.setdefault(which % nodes, []).append(raw)
        requests = []
        for node, raws in by_node.items():
            for start in range(0, len(raws), BATCH):
                batch = raws[start:start + BATCH]
                body = json.dumps([{"jsonrpc": "2.0", "id": i, "method": "broadcast_tx_sync",
                                    "params": {"tx": base64.b64encode(raw).decode()}}
                                   for i, raw in enumerate(batch)]).encode()
                requests.append((node, body, [hashlib.sha256(r).hexdigest() for r in batch]))
        ticks.append(requests)
    return ticks


def offer(urls: list[str], ticks: list[list[Request]],
          submitted_at: dict[str, float]) -> tuple[int, float, int]:
    """Send each tick's batches on schedule (open loop), one sender thread per
    validator so a slow answer from one never holds back the others; return
    (accepted, seconds, busy refusals)."""
    started = time.monotonic() + 0.05
    accepted = [0] * len(urls)
    busy = [0] * len(urls)
    threads = [threading.Thread(target=_offer_to, daemon=True,
                                args=(node, urls[node], ticks, started, submitted_at,
                                      accepted, busy))
               for node in range(len(urls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(accepted), time.monotonic() - started, sum(busy)


def _offer_to(node: int, url: str, ticks: list[list[Request]], started: float,
              submitted_at: dict[str, float], accepted: list[int], busy: list[int]) -> None:
    headers = {"content-type": "application/json"}
    with httpx.Client(timeout=30) as client:
        for tick, requests in enumerate(ticks):
            delay = started + tick * TICK_S - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            for target, body, hashes in requests:
                if target != node:
                    continue
                while True:
                    now = time.monotonic()
                    answer = client.post(url, content=body, headers=headers)
                    if answer.status_code != 503:
                        break
                    busy[node] += 1  # refused as busy: nothing was admitted; wait as told
                    time.sleep(retry_after_s(answer))
                for tx_hash in hashes:
                    submitted_at[tx_hash] = now
                accepted[node] += answer.content.count(b'"code":0,')


def retry_after_s(answer: httpx.Response) -> float:
    """How long a busy answer asks to wait: its retry_after_ms (finer than the
    whole seconds of the Retry-After header), else the header."""
    try:
        return float(answer.json()["error"]["data"]["retry_after_ms"]) / 1000
    except (ValueError, KeyError, TypeError):
        return float(answer.headers.get("retry-after", "1"))


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run_rates(rates: list[int], seconds: float, base_port: int = 46000) -> list[RateResult]:
    senders = [PrivateKey((1000 + i).to_bytes(32, "big")) for i in range(200)]
    nonces = [0] * len(senders)
    results = []
    with tempfile.TemporaryDirectory() as directory:
        net = LoadTestnet(Path(directory) / "net", senders, base_port)
        net.start()
        try:
            for rate in rates:
                txs = presign(senders, nonces, int(rate * seconds))
                ticks = prepare(txs, rate, len(net.urls()))
                watcher = BlockWatcher(net.urls()[0])
                watcher.start()
                submitted_at: dict[str, float] = {}
                cpu_before = [cpu_seconds(p.pid) for p in net.processes]
                generator_before = time.process_time()
                began = time.monotonic()
                accepted, offered_for, busy = offer(net.urls(), ticks, submitted_at)
                drain_deadline = time.monotonic() + 30
                while time.monotonic() < drain_deadline and len(
                        set(submitted_at) & set(watcher.committed_at)) < accepted:
                    time.sleep(0.1)
                ended = max(watcher.committed_at.values(), default=time.monotonic())
                watcher.stop_event.set()
                watcher.join(5)
                elapsed = time.monotonic() - began
                cpu = [(cpu_seconds(p.pid) - before) / elapsed * 100
                       for p, before in zip(net.processes, cpu_before, strict=True)]
                generator = (time.process_time() - generator_before) / elapsed * 100
                latencies = [(watcher.committed_at[h] - t) * 1000
                             for h, t in submitted_at.items() if h in watcher.committed_at]
                span = max(ended - began, 1e-9)
                warm = min(2.0, offered_for / 4)
                steady = sum(1 for h in submitted_at if began + warm
                             <= watcher.committed_at.get(h, -1.0) <= began + offered_for)
                results.append(RateResult(rate, len(txs) / offered_for, len(latencies),
                                          len(latencies) / span,
                                          steady / max(offered_for - warm, 1e-9),
                                          percentile(latencies, 0.5),
                                          percentile(latencies, 0.99), cpu, generator, busy))
                time.sleep(1.0)
        finally:
            net.stop()
    return results


if __name__ == "__main__":
    rates = [int(r) for r in (sys.argv[1] if len(sys.argv) > 1 else "500,2000,5000").split(",")]
    for result in run_rates(rates, float(sys.argv[2]) if len(sys.argv) > 2 else 10.0):
        print(result.to_json())
