"""Hypothesis-generated requests against a node's RPC over real HTTP: never a 500.

One node serves the whole module from a background thread (its own trio
loop, hypercorn on 127.0.0.1 with a free port); the tests send it bodies,
ids, methods, params, GET shortcuts and headers drawn by hypothesis through a
plain httpx client, and check every answer: no HTTP 500, no traceback, and a
JSON-RPC answer object whenever the status is 200. ``FUZZ_EXAMPLES`` sets the
examples per test (default 150); the module prints how many cases it ran.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from node_helpers import make_devnet, running_node

from wattchain.node.config import NodeConfig

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
fuzz_settings = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                         suppress_health_check=[HealthCheck.too_slow,
                                                HealthCheck.function_scoped_fixture])

CASES = {"count": 0, "by_status": {}}  # what this module sent, for the report

METHODS = ["status", "health", "net_info", "genesis", "block", "block_results", "blockchain",
           "commit", "validators", "tx", "tx_search", "num_unconfirmed_txs",
           "broadcast_tx_async", "broadcast_tx_sync", "abci_query", "subscribe",
           "unsubscribe", "unsubscribe_all"]
PARAM_NAMES = ["height", "hash", "tx", "query", "page", "per_page", "order_by", "path",
               "data", "min_height", "max_height"]

# lone surrogates get their own share: JSON can carry them, UTF-8 cannot
any_text = st.text(st.integers(0xD800, 0xDFFF).map(chr) | st.characters(codec="utf-8")
                   | st.sampled_from('"\\{}[]0-9'), max_size=40)
numbers = st.integers() | st.integers(min_value=-(10 ** 300), max_value=10 ** 300) | st.floats()
scalars = st.none() | st.booleans() | numbers | any_text
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(any_text, inner, max_size=4), max_leaves=12)
params = st.dictionaries(st.sampled_from(PARAM_NAMES) | any_text, json_values, max_size=4)
requests = st.fixed_dictionaries(
    {"jsonrpc": st.just("2.0") | json_values,
     "method": st.sampled_from(METHODS) | json_values},
    optional={"id": any_text | st.integers() | json_values, "params": params | json_values})


def encode(value: Any, ascii_only: bool) -> bytes:
    """JSON text as a client might send it; lone surrogates either escaped or raw UTF-8."""
    text = json.dumps(value, ensure_ascii=ascii_only)
    return text.encode("utf-8", "surrogatepass")


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["request", "batch", "mutated", "bytes", "nested"]))
    if kind == "request":
        return encode(draw(requests), draw(st.booleans()))
    if kind == "batch":
        return encode(draw(st.lists(requests | json_values, max_size=6)), draw(st.booleans()))
    if kind == "mutated":
        body = bytearray(encode(draw(requests), draw(st.booleans())))
        for _ in range(draw(st.integers(1, 4))):
            position = draw(st.integers(0, max(0, len(body) - 1)))
            body[position:position + 1] = draw(st.binary(min_size=0, max_size=3))
        return bytes(body)
    if kind == "nested":
        depth = draw(st.integers(1, 100_000))
        opener, closer = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}")]))
        return opener * depth + b"1" + closer * depth
    return draw(st.binary(max_size=300))


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A node serving RPC from a background thread, for the whole module."""
    def unlimited(config: NodeConfig) -> None:
        config.rpc.rate_limit_per_second = 0
        config.rpc.commit_timeout_ms = 100

    devnet = make_devnet(Path(tmp_path_factory.mktemp("fuzz")) / "home", unlimited)
    started = threading.Event()
    shared: dict[str, Any] = {}

    async def serve() -> None:
        async with running_node(devnet) as node:
            node.produce_block()
            shared.update(url=node.rpc_urls[0], token=trio.lowlevel.current_trio_token(),
                          stop=trio.Event())
            started.set()
            await shared["stop"].wait()

    thread = threading.Thread(target=trio.run, args=(serve,), daemon=True)
    thread.start()
    assert started.wait(60), "the node did not start"
    yield shared["url"]
    trio.from_thread.run_sync(shared["stop"].set, trio_token=shared["token"])
    thread.join(30)
    print(f"\nRPC fuzz: {CASES['count']} cases, status counts {CASES['by_status']}")


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as http:
        yield http


def check(response: httpx.Response) -> None:
    """What no answer may be; and a 200 carries a JSON-RPC answer."""
    CASES["count"] += 1
    by_status: dict[int, int] = CASES["by_status"]  # type: ignore[assignment]
    by_status[response.status_code] = by_status.get(response.status_code, 0) + 1
    assert response.status_code != 500, response.text
    assert "Traceback" not in response.text
    if response.status_code != 200:
        return
    answer = response.json()
    for item in answer if isinstance(answer, list) else [answer]:
        assert item["jsonrpc"] == "2.0" and "id" in item
        assert ("result" in item) != ("error" in item)


@fuzz_settings
@given(body=bodies())
def test_any_body_gets_a_json_rpc_answer(client: httpx.Client, url: str, body: bytes) -> None:
    check(client.post(url, content=body))


@fuzz_settings
@given(method=st.sampled_from(METHODS) | any_text,
       query=st.lists(st.tuples(st.sampled_from(PARAM_NAMES) | any_text,
                                any_text | st.integers().map(str) | st.just("9" * 10_000)),
                      max_size=4))
def test_any_get_shortcut_gets_a_json_rpc_answer(client: httpx.Client, url: str, method: str,
                                                 query: list[tuple[str, str]]) -> None:
    path = quote(method.encode("utf-8", "surrogatepass"), safe="")
    pairs = "&".join(f"{quote(k.encode('utf-8', 'surrogatepass'))}="
                     f"{quote(v.encode('utf-8', 'surrogatepass'))}" for k, v in query)
    response = client.get(f"{url}/{path}?{pairs}")
    if path in ("", "metrics") or response.status_code == 404:  # not JSON-RPC paths
        CASES["count"] += 1
        assert response.status_code < 500
        return
    check(response)


header_names = st.binary(min_size=1, max_size=20).map(
    lambda raw: bytes(b for b in raw if b not in b"\r\n:") or b"x")
header_values = st.binary(max_size=200).map(
    lambda raw: bytes(b for b in raw if b not in b"\r\n"))


def raw_post(url: str, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[int, bytes]:
    """POST over a bare socket (any header bytes at all); the status and the body."""
    host, port = httpx.URL(url).host, httpx.URL(url).port
    head = b"".join(name + b": " + value + b"\r\n" for name, value in headers)
    request = (b"POST / HTTP/1.1\r\nHost: " + host.encode() + b"\r\nConnection: close\r\n"
               + head + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    status_line, _, rest = received.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


@fuzz_settings
@given(headers=st.lists(st.tuples(header_names, header_values), max_size=5),
       body=bodies())
def test_any_headers_get_an_answer(url: str, headers: list[tuple[bytes, bytes]],
                                   body: bytes) -> None:
    status, content = raw_post(url, headers, body)
    check(httpx.Response(status, content=content))
