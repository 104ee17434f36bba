"""The RPC's limits as units: the connection limiter, the repeat limit on log
lines, and (against a running node) the websocket limits: message size,
subscriptions, idle timeout, and a slow consumer dropped without slowing
anyone else.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio
from node_helpers import WebsocketClient, make_devnet, running_node, websocket_url
from trio_websocket import ConnectionClosed, open_websocket_url

from wattchain.node.config import NodeConfig
from wattchain.node.log_limit import RepeatLimit, install_repeat_limit
from wattchain.node.node import Node
from wattchain.node.rpc_connections import ConnectionLimiter
from wattchain.node.rpc_errors import SERVER_ERROR, TOO_LARGE

WAIT_S = 10.0

# -- the connection limiter ----------------------------------------------------------------


class FakeSocket:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


class FakeStream:
    def __init__(self) -> None:
        self.socket = FakeSocket()


def admit_all(limiter: ConnectionLimiter, peers: list[tuple[str, int]]) -> list[Any]:
    streams = [FakeStream() for _ in peers]
    for peer, stream in zip(peers, streams, strict=True):
        assert limiter.admit(peer, stream)  # type: ignore[arg-type]
    return streams


def test_a_full_client_makes_room_by_closing_its_oldest_idle_connection() -> None:
    limiter = ConnectionLimiter(max_total=100, max_per_client=3)
    first, second, third = admit_all(limiter, [("10.0.0.1", port) for port in (1, 2, 3)])
    limiter.busy[("10.0.0.1", 1)] = 1  # serving a request: never closed to make room
    (fourth,) = admit_all(limiter, [("10.0.0.1", 4)])
    assert (first.socket.closed, second.socket.closed, third.socket.closed) == (
        False, True, False)
    assert list(limiter.by_client["10.0.0.1"]) == [("10.0.0.1", 1), ("10.0.0.1", 3),
                                                   ("10.0.0.1", 4)]
    admit_all(limiter, [("10.0.0.2", 1)])  # other clients have their own budget
    assert limiter.evicted == 1


def test_a_connection_is_refused_only_when_all_counted_ones_are_busy() -> None:
    limiter = ConnectionLimiter(max_total=2, max_per_client=10)
    admit_all(limiter, [("10.0.0.1", 1), ("10.0.0.2", 1)])
    limiter.busy.update({("10.0.0.1", 1): 1, ("10.0.0.2", 1): 2})
    assert not limiter.admit(("10.0.0.3", 1), FakeStream())  # type: ignore[arg-type]
    assert limiter.refused == 1
    del limiter.busy[("10.0.0.2", 1)]
    assert limiter.admit(("10.0.0.3", 1), FakeStream())  # type: ignore[arg-type]
    assert set(limiter.streams) == {("10.0.0.1", 1), ("10.0.0.3", 1)}


def test_release_forgets_only_the_stream_it_is_given() -> None:
    limiter = ConnectionLimiter(max_total=5, max_per_client=5)
    (stream,) = admit_all(limiter, [("10.0.0.1", 1)])
    assert limiter.release(("10.0.0.1", 1), FakeStream()) is None  # type: ignore[arg-type]
    assert limiter.release(("10.0.0.1", 1), stream) is stream
    assert limiter.streams == {} and limiter.by_client == {}
    limiter.abort(("10.0.0.1", 1))  # gone already: nothing happens


async def test_track_marks_a_connection_busy_while_a_request_is_served() -> None:
    limiter = ConnectionLimiter(max_total=5, max_per_client=5)
    seen = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(dict(limiter.busy))

    tracked = limiter.track(app)
    await tracked({"type": "http", "client": ("10.0.0.1", 7)}, None, None)
    await tracked({"type": "lifespan"}, None, None)
    assert seen == [{("10.0.0.1", 7): 1}, {}]
    assert limiter.busy == {}


# -- the repeat limit on log lines -----------------------------------------------------------


def record(message: str, *args: Any, name: str = "wattchain.rpc") -> logging.LogRecord:
    return logging.LogRecord(name, logging.INFO, __file__, 1, message, args, None)


def test_repeated_lines_are_suppressed_then_summarised() -> None:
    """Failed before: there was no such filter, and every line was logged."""
    now = [0.0]
    limit = RepeatLimit(limit=3, interval_s=60, clock=lambda: now[0])
    lines = [record("client %s gone", f"10.0.0.{i}") for i in range(10)]
    passed = [line for line in lines if limit.filter(line)]
    assert len(passed) == 3
    assert "suppressed for up to 60 s" in passed[2].getMessage()
    assert limit.filter(record("another template"))  # its own budget
    assert limit.filter(record("client %s gone", "x", name="other.logger"))
    now[0] = 61.0
    later = record("client %s gone", "10.0.0.99")
    assert limit.filter(later)
    assert later.getMessage() == "client 10.0.0.99 gone [7 similar lines were suppressed]"


def test_install_repeat_limit_filters_every_root_handler_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    handlers = [logging.StreamHandler(), logging.StreamHandler()]
    monkeypatch.setattr(logging.getLogger(), "handlers", handlers)
    installed = install_repeat_limit()
    assert install_repeat_limit() is installed
    assert all(handler.filters == [installed] for handler in handlers)


# -- websocket limits ----------------------------------------------------------------------


@asynccontextmanager
async def websocket_node(tmp_path: Path, configure: Callable[[NodeConfig], None]
                         ) -> AsyncIterator[Node]:
    async with running_node(make_devnet(tmp_path / "home", configure)) as node:
        yield node


@asynccontextmanager
async def websocket(node: Node, queue_size: int = 1) -> AsyncIterator[WebsocketClient]:
    async with open_websocket_url(websocket_url(node), connect_timeout=WAIT_S,
                                  disconnect_timeout=WAIT_S,
                                  message_queue_size=queue_size) as connection:
        yield WebsocketClient(connection)


async def test_websocket_message_size_and_subscription_limits(tmp_path: Path) -> None:
    def small(config: NodeConfig) -> None:
        config.rpc.max_websocket_message_bytes = 2_000
        config.rpc.max_subscriptions = 2

    async with websocket_node(tmp_path, small) as node, websocket(node) as client:
        await client.send("x" * 1_500)  # under hypercorn's frame limit, not JSON
        assert (await client.receive())["error"]["code"] != TOO_LARGE
        for query in ("tm.event='NewBlock'", "tm.event='Tx'"):
            assert (await client.request("subscribe", query=query))["result"] == {}
        error = (await client.request("subscribe", query="tx.height=1"))["error"]
        assert (error["code"], error["message"]) == (SERVER_ERROR, "Too many subscriptions")
        await client.send("x" * 5_000)
        with pytest.raises(ConnectionClosed), trio.fail_after(WAIT_S):
            await client.connection.get_message()  # closed: message too big
        assert client.connection.closed is not None
        assert client.connection.closed.code == 1009


async def test_an_idle_websocket_is_closed(tmp_path: Path,
                                           caplog: pytest.LogCaptureFixture) -> None:
    """Failed before: an idle websocket stayed open for ever."""
    def quick(config: NodeConfig) -> None:
        config.rpc.websocket_idle_timeout_s = 1

    caplog.set_level(logging.INFO, logger="wattchain.rpc")
    async with websocket_node(tmp_path, quick) as node:
        async with websocket(node) as idle, websocket(node) as subscriber:
            assert (await subscriber.request("subscribe", query="tm.event='NewBlock'"))[
                "result"] == {}
            with pytest.raises(ConnectionClosed), trio.fail_after(5):
                await idle.connection.get_message()
            await trio.sleep(1.5)
            node.produce_block()  # the subscriber, though silent, was kept
            event = await subscriber.receive()
            assert event["result"]["data"]["height"] == 1
    assert any("idle for 1 s" in r.getMessage() for r in caplog.records)


async def test_a_slow_consumer_is_dropped_and_others_keep_receiving(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Failed before: the events for a client that did not read piled up behind a
    blocked send for ever, and the connection was never closed."""
    def small_queue(config: NodeConfig) -> None:
        config.rpc.websocket_send_queue = 20

    caplog.set_level(logging.INFO, logger="wattchain.rpc")
    query = "tm.event='NewBlock'"
    async with websocket_node(tmp_path, small_queue) as node:
        async with websocket(node) as slow, websocket(node, queue_size=1_000) as fast:
            for client in (slow, fast):
                assert (await client.request("subscribe", query=query))["result"] == {}
            blob = "x" * 200_000
            received = 0
            for height in range(100):  # 20 MB: far more than the socket buffers hold
                node.bus.publish({"tm.event": ["NewBlock"]}, {"height": height, "blob": blob})
                while True:  # the fast client reads all it can
                    with trio.move_on_after(0.01):
                        await fast.receive()
                        received += 1
                        continue
                    break
            with trio.fail_after(WAIT_S):
                while received < 100:
                    await fast.receive()
                    received += 1
            with trio.fail_after(WAIT_S):
                while len(node.bus.subscriptions) > 1:  # noqa: ASYNC110
                    await trio.sleep(0.05)
    dropped = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert len(dropped) == 1 and "slow consumer" in dropped[0]
