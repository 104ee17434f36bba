"""Libp2pTransport over real loopback sockets: delivery, identity, reconnection,
misbehaving peers. Also prints latency and throughput figures (not asserted)."""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
import trio
from process_helpers import free_port

from wattchain.node.p2p.libp2p_transport import Libp2pTransport, peer_id_of
from wattchain.node.p2p.transport import (
    CONSENSUS,
    PROTOCOLS,
    SYNC,
    TXS,
    Frame,
    Incoming,
    PeerEvent,
)

pytest.importorskip("libp2p")

SECRETS = [bytes([i + 1]) * 32 for i in range(3)]


def addr_of(secret: bytes, port: int) -> str:
    return f"/ip4/127.0.0.1/tcp/{port}/p2p/{peer_id_of(secret)}"


@dataclass
class Running:
    transport: Libp2pTransport
    inbox: trio.MemoryReceiveChannel[Incoming]
    addrs: list[str]
    scope: trio.CancelScope

    @property
    def id(self) -> str:
        return self.transport.local_id

    async def event(self, peer: str, connected: bool) -> None:
        """Skip frames until PeerEvent(peer, connected)."""
        async for item in self.inbox:
            if isinstance(item, PeerEvent) and item == PeerEvent(peer, connected):
                return

    async def frames(self, count: int) -> list[Frame]:
        out: list[Frame] = []
        async for item in self.inbox:
            if isinstance(item, Frame):
                out.append(item)
                if len(out) == count:
                    break
        return out

    def stop(self) -> None:
        self.scope.cancel()


async def _run(transport: Libp2pTransport, send: trio.MemorySendChannel[Incoming],
               scope: trio.CancelScope, *,
               task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED) -> None:
    with scope:
        await transport.run(send, task_status=task_status)


async def start(nursery: trio.Nursery, secret: bytes, port: int, peers: list[str],
                **kwargs: object) -> Running:
    transport = Libp2pTransport(secret, "127.0.0.1", port, peers, **kwargs)  # type: ignore[arg-type]
    send, receive = trio.open_memory_channel[Incoming](1_000_000)
    scope = trio.CancelScope()
    addrs = await nursery.start(_run, transport, send, scope)
    return Running(transport, receive, addrs, scope)


@asynccontextmanager
async def pair(**kwargs: object) -> AsyncIterator[tuple[Running, Running]]:
    """Two transports dialing each other, connected both ways."""
    ports = [free_port(), free_port()]
    async with trio.open_nursery() as nursery:
        with trio.fail_after(10):
            a = await start(nursery, SECRETS[0], ports[0], [addr_of(SECRETS[1], ports[1])],
                            **kwargs)
            b = await start(nursery, SECRETS[1], ports[1], [addr_of(SECRETS[0], ports[0])],
                            **kwargs)
            await a.event(b.id, True)
            await b.event(a.id, True)
        yield a, b
        nursery.cancel_scope.cancel()


def count_tasks() -> int:
    def walk(task: trio.lowlevel.Task) -> int:
        return 1 + sum(walk(child) for nursery in task.child_nurseries
                       for child in nursery.child_tasks)

    root = trio.lowlevel.current_root_task()
    assert root is not None
    return walk(root)


async def test_peer_id_is_stable_and_matches_libp2p() -> None:
    from libp2p.crypto.secp256k1 import create_new_key_pair
    from libp2p.peer.id import ID

    for secret in SECRETS:
        expected = str(ID.from_pubkey(create_new_key_pair(secret).public_key))
        assert peer_id_of(secret) == expected == peer_id_of(bytes(secret))
        assert Libp2pTransport(secret, "127.0.0.1", 0, []).local_id == expected
    assert peer_id_of(SECRETS[0]) != peer_id_of(SECRETS[1])
    with pytest.raises(ValueError):
        Libp2pTransport(b"short", "127.0.0.1", 0, [])
    with pytest.raises(ValueError):
        Libp2pTransport(SECRETS[0], "127.0.0.1", 0, ["/ip4/127.0.0.1/tcp/1"])
    with pytest.raises(ValueError):  # checked before anything listens
        await Libp2pTransport(SECRETS[0], "127.0.0.1", 0, ["/ip4/x/tcp/1/p2p/Qmnope"]).run(
            trio.open_memory_channel[Incoming](1)[0])


async def test_frames_flow_in_order_on_every_protocol() -> None:
    baseline = count_tasks()
    count = 1_000
    async with pair() as (a, b):
        assert a.addrs == [f"/ip4/127.0.0.1/tcp/{a.addrs[0].split('/')[4]}/p2p/{a.id}"]
        assert a.transport.peers() == [b.id] and b.transport.peers() == [a.id]
        network = a.transport._host.get_network()  # Noise + Yamux over TCP, nothing else
        assert list(network.upgrader.security_multistream.transports) == ["/noise"]
        assert list(network.upgrader.muxer_multistream.transports) == ["/yamux/1.0.0"]
        assert [type(t).__name__ for t in network.transport_manager.get_transports()] == ["TCP"]
        for connection in network.get_connections():
            assert (connection._negotiated_security_protocol,
                    connection._negotiated_muxer_protocol) == ("/noise", "/yamux/1.0.0")
        with trio.fail_after(15):
            for i in range(count):
                for protocol in PROTOCOLS:
                    assert a.transport.send(b.id, protocol, f"a{protocol}{i}".encode())
                    assert b.transport.send(a.id, protocol, f"b{protocol}{i}".encode())
            got_b = await b.frames(count * len(PROTOCOLS))
            got_a = await a.frames(count * len(PROTOCOLS))
        for got, sender, tag in ((got_b, a.id, "a"), (got_a, b.id, "b")):
            assert {f.peer for f in got} == {sender}
            for protocol in PROTOCOLS:
                data = [f.data for f in got if f.protocol == protocol]
                assert data == [f"{tag}{protocol}{i}".encode() for i in range(count)]

        await measure(a, b)
    # Everything ended with run: no task of libp2p or ours is left behind.
    assert count_tasks() == baseline


async def measure(a: Running, b: Running) -> None:
    """Print round-trip latency and throughput (for the report, not asserted)."""

    async def echo() -> None:
        async for item in b.inbox:
            if isinstance(item, Frame) and item.protocol == CONSENSUS:
                b.transport.send(a.id, CONSENSUS, item.data)

    rounds = 500
    async with trio.open_nursery() as nursery:
        nursery.start_soon(echo)
        times = []
        with trio.fail_after(20):
            for i in range(rounds):
                t0 = time.perf_counter()
                a.transport.send(b.id, CONSENSUS, struct.pack(">I", i) + bytes(150))
                (frame,) = await a.frames(1)
                times.append(time.perf_counter() - t0)
                assert frame.data[:4] == struct.pack(">I", i)
        nursery.cancel_scope.cancel()
    times.sort()
    print(f"\nround trip, 154 B frames x {rounds}: median {times[rounds // 2] * 1e3:.2f} ms, "
          f"p99 {times[int(rounds * 0.99)] * 1e3:.2f} ms")

    for size, number in ((200, 20_000), (64 * 1024, 320)):
        payload = bytes(size)
        t0 = time.perf_counter()
        with trio.fail_after(30):
            sent = 0
            received = 0
            while received < number:
                while sent < number and a.transport.send(b.id, TXS, payload):
                    sent += 1
                received += len(await b.frames(min(number - received, 500)))
        elapsed = time.perf_counter() - t0
        print(f"one way, {size} B frames x {number}: {number / elapsed:,.0f} frames/s, "
              f"{number * size / elapsed / 2**20:.1f} MiB/s")


async def test_restarted_peer_is_redialed_by_the_survivor() -> None:
    """The survivor alone redials (the restarted peer lists no peers)."""
    port_a, port_b = free_port(), free_port()
    async with trio.open_nursery() as nursery:
        with trio.fail_after(10):
            a = await start(nursery, SECRETS[0], port_a, [addr_of(SECRETS[1], port_b)])
            b = await start(nursery, SECRETS[1], port_b, [])
            await a.event(b.id, True)
            await b.event(a.id, True)

        for _ in range(2):
            b.stop()
            t0 = time.perf_counter()
            with trio.fail_after(3):
                await a.event(b.id, False)
            print(f"\nsurvivor saw the stop after {(time.perf_counter() - t0) * 1e3:.0f} ms")
            assert b.id not in a.transport.peers()
            assert not a.transport.send(b.id, CONSENSUS, b"lost")
            await trio.sleep(1.0)  # the survivor's backoff grows meanwhile

            with trio.fail_after(5):
                b = await start(nursery, SECRETS[1], port_b, [])  # same port, same key
            t0 = time.perf_counter()
            with trio.fail_after(2.5):
                await a.event(b.id, True)
                assert a.transport.send(b.id, CONSENSUS, b"first")
                # b hears of a before any frame of a's, so b can answer at once
                assert await b.inbox.receive() == PeerEvent(a.id, True)
                assert await b.inbox.receive() == Frame(a.id, CONSENSUS, b"first")
            print(f"redialed {(time.perf_counter() - t0) * 1e3:.0f} ms after the restart")
            await exchange(a, b)
        nursery.cancel_scope.cancel()


async def test_both_sides_reconnect_within_a_second() -> None:
    async with pair() as (a, b):
        nursery_port = int(b.addrs[0].split("/")[4])
        peers_b = [addr_of(SECRETS[0], int(a.addrs[0].split("/")[4]))]
        async with trio.open_nursery() as nursery:
            b.stop()
            with trio.fail_after(3):
                await a.event(b.id, False)
            await trio.sleep(0.5)
            with trio.fail_after(5):
                b = await start(nursery, SECRETS[1], nursery_port, peers_b)
            t0 = time.perf_counter()
            with trio.fail_after(1.5):
                await a.event(b.id, True)
                await b.event(a.id, True)
            print(f"\nboth sides connected {(time.perf_counter() - t0) * 1e3:.0f} ms "
                  "after the restart")
            await exchange(a, b)
            nursery.cancel_scope.cancel()


async def exchange(a: Running, b: Running, count: int = 100) -> None:
    with trio.fail_after(5):
        for i in range(count):
            assert a.transport.send(b.id, SYNC, b"%d" % i)
            assert b.transport.send(a.id, SYNC, b"%d" % i)
        for node in (a, b):
            assert [f.data for f in await node.frames(count)] == [b"%d" % i
                                                                  for i in range(count)]


async def test_a_taken_port_is_refused() -> None:
    async with pair() as (a, _b):
        port = int(a.addrs[0].split("/")[4])
        with pytest.raises(OSError):  # libp2p alone would share it (SO_REUSEPORT)
            await Libp2pTransport(SECRETS[2], "127.0.0.1", port, []).run(
                trio.open_memory_channel[Incoming](1)[0])


async def test_send_to_unknown_peer_is_refused() -> None:
    transport = Libp2pTransport(SECRETS[2], "127.0.0.1", 0, [])
    assert not transport.send(peer_id_of(SECRETS[0]), CONSENSUS, b"x")  # not running
    async with pair() as (a, b):
        assert not a.transport.send(peer_id_of(SECRETS[2]), CONSENSUS, b"x")
        assert not a.transport.send("not-a-peer", CONSENSUS, b"x")
        assert not a.transport.send(b.id, "/unknown/1.0.0", b"x")
        assert a.transport.send(b.id, CONSENSUS, b"x")
        assert transport.peers() == []


async def test_oversized_frame_disconnects_the_sender(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="wattchain.p2p.libp2p")
    port_a, port_b = free_port(), free_port()
    async with trio.open_nursery() as nursery:
        with trio.fail_after(10):
            # a accepts frames up to 1 KiB, b sends up to the default 16 MiB
            a = await start(nursery, SECRETS[0], port_a, [addr_of(SECRETS[1], port_b)],
                            max_frame_bytes=1024, backoff_max=0.5)
            b = await start(nursery, SECRETS[1], port_b, [addr_of(SECRETS[0], port_a)],
                            backoff_max=0.5)
            await a.event(b.id, True)
            await b.event(a.id, True)
        assert b.transport.send(a.id, TXS, bytes(1024))
        with trio.fail_after(3):
            assert [f.data for f in await a.frames(1)] == [bytes(1024)]
        assert not a.transport.send(b.id, TXS, bytes(1025))  # a never sends what it refuses
        assert b.transport.send(a.id, TXS, bytes(1025))
        with trio.fail_after(3):
            await a.event(b.id, False)
            await b.event(a.id, False)
        assert any("bad frame" in r.getMessage() for r in caplog.records)
        # a is still alive: b comes back after the ban and frames flow again
        with trio.fail_after(5):
            await a.event(b.id, True)
            await b.event(a.id, True)
        await exchange(a, b)
        nursery.cancel_scope.cancel()
