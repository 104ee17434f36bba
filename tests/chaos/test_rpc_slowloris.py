"""1,000 slowloris connections against a node's RPC; an honest client still gets
``status`` answered quickly (target: p99 < 1 s on a quiet machine; ``make chaos``).
The caps themselves are tested in ``tests/node/test_rpc_hardening.py``.

Everything runs on loopback in one trio loop, bounded in time: the attackers
open connections that send a request head one header line a second and never
finish it, and reconnect a second after the server closes them (header
timeout, or room made for newer connections) after 1 to 3 s (seeded, so that
their reconnects are not all in step). The honest client asks
``status`` on a fresh connection every few tens of milliseconds meanwhile.
"""

from __future__ import annotations

import random
import statistics
from pathlib import Path

import httpx
import pytest
import trio
from node_helpers import make_devnet, running_node

from wattchain.node.config import NodeConfig
from wattchain.node.node import Node

ATTACKERS = 1_000
HONEST_CALLS = 300
HEAD = b"POST / HTTP/1.1\r\nHost: node\r\nContent-Type: application/json\r\n"


class Attack:
    def __init__(self) -> None:
        self.open = 0  # connections the attackers hold now
        self.opened = 0
        self.closed_by_server = 0


async def slowloris(node: Node, source: str, attack: Attack, stop_at: float,
                    pause_s: float) -> None:
    """One attacker slot: hold a half-sent request head open, reconnect ``pause_s``
    after the server closed it."""
    port = int(node.rpc_urls[0].rsplit(":", 1)[1])
    while trio.current_time() < stop_at:
        sock = trio.socket.socket()
        try:
            await sock.bind((source, 0))
            await sock.connect(("127.0.0.1", port))
        except OSError:
            sock.close()
            await trio.sleep(pause_s)
            continue
        stream = trio.SocketStream(sock)
        attack.open += 1
        attack.opened += 1
        try:
            await stream.send_all(HEAD)
            while trio.current_time() < stop_at:
                with trio.move_on_after(1):
                    if not await stream.receive_some(1024):
                        attack.closed_by_server += 1
                        break
                await stream.send_all(b"X-Padding: a\r\n")
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            attack.closed_by_server += 1
        finally:
            attack.open -= 1
            await stream.aclose()
        await trio.sleep(pause_s)


async def honest_latencies(url: str, calls: int) -> list[float]:
    """Seconds per ``status`` call, each on a new connection."""
    latencies = []
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:
        for index in range(calls):
            started = trio.current_time()
            response = await client.post(url, json={"jsonrpc": "2.0", "id": index,
                                                    "method": "status"})
            latencies.append(trio.current_time() - started)
            assert response.status_code == 200
            assert response.json()["result"]["node_info"]["network"]
            await trio.sleep(0.03)
    return latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@pytest.mark.slow
@pytest.mark.parametrize("sources", [1, 20], ids=["one-address", "twenty-addresses"])
async def test_an_honest_client_is_served_under_a_slowloris_attack(
        tmp_path: Path, sources: int) -> None:
    """With one attacker address (the honest client's own, 127.0.0.1) the per-client
    cap bounds what the attack holds; with twenty (127.0.0.2..21) the total cap does."""
    def no_rate_limit(config: NodeConfig) -> None:
        config.rpc.rate_limit_per_second = 0

    addresses = ["127.0.0.1"] if sources == 1 else [f"127.0.0.{2 + i}" for i in range(sources)]
    attack = Attack()
    async with running_node(make_devnet(tmp_path / "home", no_rate_limit)) as node:
        async with trio.open_nursery() as nursery:
            stop_at = trio.current_time() + 60
            pauses = random.Random(15)
            for slot in range(ATTACKERS):
                nursery.start_soon(slowloris, node, addresses[slot % len(addresses)], attack,
                                   stop_at, pauses.uniform(1, 3))
            with trio.fail_after(30):
                while attack.opened < ATTACKERS:  # noqa: ASYNC110
                    await trio.sleep(0.05)
            latencies = await honest_latencies(node.rpc_urls[0], HONEST_CALLS)
            nursery.cancel_scope.cancel()
    p99 = percentile(latencies, 0.99)
    print(f"\nslowloris ({sources} address(es)): {attack.opened} attacker connections opened, "
          f"{attack.closed_by_server} closed by the server; honest status p50 "
          f"{statistics.median(latencies) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
          f"max {max(latencies) * 1000:.1f} ms")
    assert attack.closed_by_server > 0
    assert p99 < 1.0
