"""Hostile input against a running node's RPC (issue 15, RPC hardening).

Each test starts its own node (make_devnet + running_node) and talks real
HTTP to it: bodies and ids no server should choke on, storage failures,
clients that vanish or dawdle mid-request, too many connections.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import plyvel
import pytest
import trio
from node_helpers import RpcClient, make_devnet, rpc_client, running_node

from wattchain.node.config import NodeConfig
from wattchain.node.node import Node
from wattchain.node.rpc_errors import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    STORAGE_ERROR,
    TIMEOUT,
)

WAIT_S = 10.0


@asynccontextmanager
async def node_with(tmp_path: Path, **rpc_settings: int
                    ) -> AsyncIterator[tuple[Node, RpcClient]]:
    """A running node whose ``[rpc]`` settings are ``rpc_settings``, and a client."""
    def configure(config: NodeConfig) -> None:
        for name, value in rpc_settings.items():
            setattr(config.rpc, name, value)

    async with running_node(make_devnet(tmp_path / "home", configure)) as node:
        async with rpc_client(node) as client:
            yield node, client


@pytest.fixture
async def rpc(tmp_path: Path) -> AsyncIterator[RpcClient]:
    async with node_with(tmp_path) as (_, client):
        yield client


def port_of(node: Node) -> int:
    return int(node.rpc_urls[0].rsplit(":", 1)[1])


async def raw_connection(node: Node, source: str = "127.0.0.1") -> trio.SocketStream:
    """A TCP connection to the node's RPC port from ``source`` (any 127.x.y.z)."""
    sock = trio.socket.socket()
    await sock.bind((source, 0))
    await sock.connect(("127.0.0.1", port_of(node)))
    return trio.SocketStream(sock)


async def closed_by_server(stream: trio.SocketStream, within_s: float) -> bytes:
    """Everything the server sends until it closes ``stream``; fails after ``within_s``."""
    received = b""
    with trio.fail_after(within_s):
        while True:
            try:
                chunk = await stream.receive_some(65536)
            except trio.BrokenResourceError:  # reset by the server
                return received
            if not chunk:
                return received
            received += chunk


def answer_of(response_bytes: bytes) -> tuple[str, Any]:
    head, _, body = response_bytes.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0].decode(), json.loads(body)


# -- bodies, ids and params that used to break the server --------------------------------


@pytest.mark.parametrize("body", [
    b'{"jsonrpc": "2.0", "id": "\\ud800", "method": "status"}',  # escaped lone surrogate
    b'{"jsonrpc": "2.0", "id": "\xed\xa0\x80", "method": "status"}',  # a surrogate in UTF-8
    b'{"jsonrpc": "2.0", "id": "a\\udfffb", "method": "health"}',
])
async def test_a_lone_surrogate_id_is_refused_not_a_500(rpc: RpcClient, body: bytes) -> None:
    """Failed before: HTTP 500, UnicodeEncodeError while encoding the reply."""
    response = await rpc.post(content=body)
    assert response.status_code == 200
    answer = response.json()
    assert answer["id"] is None and answer["error"]["code"] == INVALID_REQUEST


async def test_surrogates_in_method_and_params_are_answered(rpc: RpcClient) -> None:
    method = await rpc.post(content=b'{"jsonrpc":"2.0","id":1,"method":"\\ud800x"}')
    assert method.json()["error"]["code"] == METHOD_NOT_FOUND
    params = await rpc.post(content=b'{"jsonrpc":"2.0","id":2,"method":"tx_search",'
                                    b'"params":{"query":"tx.module=\'\\udc80\'"}}')
    assert params.status_code == 200 and params.json()["id"] == 2
    batch = await rpc.post(content=b'[{"jsonrpc":"2.0","id":"\\ud83d","method":"health"},'
                                   b'{"jsonrpc":"2.0","id":"\\ud83d\\ude00","method":"health"}]')
    first, second = batch.json()
    assert first["id"] is None and first["error"]["code"] == INVALID_REQUEST
    assert second == {"jsonrpc": "2.0", "id": "\U0001f600", "result": {}}


@pytest.mark.parametrize("body", [
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    b'{"jsonrpc":"2.0","id":' + b"9" * 10_000 + b',"method":"status"}',
    b'{"jsonrpc":"2.0","id":1,"method":"block","params":{"height":' + b"7" * 10_000 + b"}}",
    b'{"jsonrpc":"2.0","id":NaN,"method":"status"}',
    b'{"jsonrpc":"2.0","id":1,"method":"abci_query","params":{"path":"x","data":{"a":Infinity}}}',
    b"\xff\xfe\x00junk",
    b"\xc3\x28",
])
async def test_hostile_bodies_get_a_parse_error(rpc: RpcClient, body: bytes) -> None:
    response = await rpc.post(content=body)
    assert response.status_code == 200
    assert response.json()["error"]["code"] == PARSE_ERROR


async def test_a_batch_of_ten_thousand_and_a_huge_string(rpc: RpcClient) -> None:
    batch = [{"jsonrpc": "2.0", "id": i, "method": "health"} for i in range(10_000)]
    answer = (await rpc.post(batch)).json()
    assert answer["error"]["code"] == INVALID_REQUEST and "exceeds the limit" in answer[
        "error"]["data"]
    huge = (await rpc.post({"jsonrpc": "2.0", "id": 1, "method": "tx",
                            "params": {"hash": "ab" * 400_000}})).json()
    assert huge["error"]["code"] == INVALID_PARAMS


@pytest.mark.parametrize("height", ["\u00b2", "\u0661\u0662", "9" * 10_000, "-" + "9" * 5_000])
async def test_string_integers_that_python_cannot_parse(rpc: RpcClient, height: str) -> None:
    """Failed before: ValueError from int() became an Internal error with a traceback."""
    assert (await rpc.error("block", height=height))["code"] == INVALID_PARAMS


@pytest.mark.parametrize("query", ["height=\u00b2", "height=" + "1" * 10_000,
                                   "height=-" + "1" * 5_000, "min_height=%ff%fe&max_height=%00",
                                   "hash=%ed%a0%80", "height=1&height=2&x=" + "%" * 1000])
async def test_get_shortcuts_with_junk(rpc: RpcClient, query: str) -> None:
    """Failed before: HTTP 500 (ValueError from int() in the GET handler)."""
    response = await rpc.get(f"/block?{query}")
    assert response.status_code == 200
    assert "error" in response.json()
    assert (await rpc.get("/%ed%a0%80?x=1")).json()["error"]["code"] == METHOD_NOT_FOUND


async def test_junk_headers_get_json_rpc_errors(rpc: RpcClient) -> None:
    body = '{"jsonrpc":"2.0","id":1,"method":"health"}'
    for headers in ({b"content-type": b"\xff\xfe"}, {b"x-junk": b"\xe9\x80" * 3000},
                    {b"content-length": b"42", b"content-type": b"text/plain; charset=utf-16"}):
        response = await rpc.post(content=body.encode(), headers=headers)
        assert response.json() == {"jsonrpc": "2.0", "id": 1, "result": {}}


# -- storage failures ---------------------------------------------------------------------


class FailingBlocks:
    """A block store whose every read fails as a corrupt LevelDB table does."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any) -> Any:
            raise plyvel.CorruptionError(b"Corruption: block checksum mismatch: "
                                         b"/data/chain.db/000005.ldb")
        return fail


async def test_a_storage_failure_is_a_typed_error_and_one_log_line(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Failed before: -32603 Internal error, and a CorruptionError traceback in the log."""
    async with node_with(tmp_path) as (node, rpc):
        node.produce_block()
        node.blocks = FailingBlocks(node.blocks)  # type: ignore[assignment]
        with caplog.at_level(logging.INFO, logger="wattchain.rpc"):
            for method, params in (("block", {"height": 1}), ("blockchain", {}),
                                   ("tx", {"hash": "00" * 32})):
                error = await rpc.error(method, **params)
                assert error["code"] == STORAGE_ERROR, error
                assert "database" in error["data"]
    records = [r for r in caplog.records if r.name == "wattchain.rpc"]
    assert len(records) == 3
    assert all(r.exc_info is None and "CorruptionError" in r.getMessage() for r in records)


# -- clients that vanish or dawdle ---------------------------------------------------------


async def test_a_client_gone_mid_body_is_logged_at_debug_without_traceback(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Failed before: an ERROR with a full traceback for every such client."""
    caplog.set_level(logging.DEBUG)
    async with node_with(tmp_path) as (node, rpc):
        for _ in range(3):
            stream = await raw_connection(node)
            await stream.send_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"
                                  b'{"jsonrpc":')
            await trio.sleep(0.05)
            await stream.aclose()
        with trio.fail_after(WAIT_S):
            while sum("disconnected before" in r.getMessage() for r in caplog.records) < 3:  # noqa: ASYNC110
                await trio.sleep(0.05)
        assert await rpc.call("health") == {}
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert loud == []


async def test_half_sent_headers_are_closed_after_the_header_timeout(tmp_path: Path) -> None:
    """Failed before: such a connection stayed open for 75 s (keep_alive_timeout)."""
    async with node_with(tmp_path, header_timeout_s=1) as (node, _):
        stream = await raw_connection(node)
        await stream.send_all(b"POST / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        started = trio.current_time()
        await closed_by_server(stream, within_s=5)
        assert trio.current_time() - started >= 0.9


async def test_a_body_that_never_arrives_gets_a_timeout_error(tmp_path: Path) -> None:
    """Failed before: the server waited for the body for ever."""
    async with node_with(tmp_path, body_timeout_s=1) as (node, _):
        stream = await raw_connection(node)
        await stream.send_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        status, answer = answer_of(await closed_by_server(stream, within_s=5))
        assert " 408 " in status
        assert answer["error"]["code"] == TIMEOUT


async def test_connections_over_the_per_client_cap_are_closed(tmp_path: Path) -> None:
    """Failed before: every connection was kept, without limit."""
    async with node_with(tmp_path, max_connections_per_client=5,
                         max_connections=8) as (node, rpc):
        idle = [await raw_connection(node, "127.0.0.2") for _ in range(12)]
        for stream in idle[:7]:  # the oldest idle ones made room for the newer
            await closed_by_server(stream, within_s=WAIT_S)
        others = [await raw_connection(node, f"127.0.0.{3 + i}") for i in range(6)]
        # 5 of 127.0.0.2 + 6 others > 8 in total: the oldest idle made room again
        for stream in idle[7:10]:
            await closed_by_server(stream, within_s=WAIT_S)
        assert await rpc.call("health") == {}  # an honest client still gets in
        for stream in idle + others:
            await stream.aclose()
