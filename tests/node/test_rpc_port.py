"""The RPC layer against a fake of its port (``ports.RpcPort``): no node, no chain,
no HTTP server. Requests go through ``JsonRpcServer.dispatch`` as the HTTP and
websocket handlers send them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
import trio
import trio.testing

from wattchain.crypto import PrivateKey, format_address
from wattchain.genesis import Genesis
from wattchain.genesis.presets import devnet_genesis
from wattchain.hashing import sha256
from wattchain.modules.chain import Validator
from wattchain.node import store as store_keys
from wattchain.node.config import RpcConfig
from wattchain.node.events import EventBus, Inclusion
from wattchain.node.mempool import DuplicateTx
from wattchain.node.metrics import NodeMetrics
from wattchain.node.ports import ConsensusState, NodeIdentity, RpcPort
from wattchain.node.rpc import JsonRpcServer
from wattchain.node.rpc_errors import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    NOT_FOUND,
    SERVER_ERROR,
    TIMEOUT,
)
from wattchain.node.rpc_subscriptions import WebsocketConnection
from wattchain.node.store import ChainTip
from wattchain.types import Block, Commit, Event, Header, SignedTx, Tx, sign_tx
from wattchain.vm.errors import FeeTooLow, UnknownQuery
from wattchain.vm.execution import TxResult

CHAIN_ID = "wattchain-fake"
VALIDATOR = PrivateKey(b"\x01" * 32)
SENDER = PrivateKey(b"\x02" * 32)


def signed_tx(nonce: int) -> SignedTx:
    return sign_tx(Tx(CHAIN_ID, SENDER.address, nonce, 10, "accounts", "transfer",
                      [b"\x03" * 20, 5]), SENDER)


def make_block(height: int, txs: list[bytes]) -> Block:
    header = Header(CHAIN_ID, height, 1_000 + height, VALIDATOR.address, b"\x00" * 32,
                    b"\x00" * 32, bytes([height]) * 32, b"\x00" * 32, b"")
    return Block(header, txs, None)


class FakeBlocks:
    """A block store in dicts."""

    def __init__(self) -> None:
        self.stored: dict[int, tuple[Block, Commit, list[TxResult]]] = {}
        self.index: dict[bytes, list[bytes]] = {}

    def add(self, block: Block, results: list[TxResult]) -> None:
        height = block.header.height
        self.stored[height] = (block, Commit(height, 0, block.hash(), []), results)

    def block(self, height: int) -> Block | None:
        return self.stored[height][0] if height in self.stored else None

    def commit(self, height: int) -> Commit | None:
        return self.stored[height][1] if height in self.stored else None

    def results(self, height: int) -> tuple[list[TxResult], list[Event]] | None:
        return (self.stored[height][2], []) if height in self.stored else None

    def app_hash(self, height: int) -> bytes | None:
        return self.stored[height][0].header.app_hash if height in self.stored else None

    def height_of(self, block_hash: bytes) -> int | None:
        return next((h for h, (b, _, _) in self.stored.items() if b.hash() == block_hash), None)

    def tx_position(self, tx_id: bytes) -> tuple[int, int] | None:
        for height, (block, _, _) in self.stored.items():
            for index, raw in enumerate(block.txs):
                if sha256(raw) == tx_id:
                    return height, index
        return None

    def search_txs(self, prefix: bytes, limit: int, offset: int = 0) -> tuple[list[bytes], int]:
        found = self.index.get(prefix, [])
        return found[offset:offset + limit], len(found)


class FakeMempool:
    def __init__(self) -> None:
        self.pending: dict[bytes, bytes] = {}
        self.size_bytes = 0
        self.high_water = 1_000

    def __len__(self) -> int:
        return len(self.pending)

    def __contains__(self, tx_id: bytes) -> bool:
        return tx_id in self.pending


class FakeNode:
    """Implements RpcPort with fixed answers; records what RPC asked of it."""

    def __init__(self) -> None:
        self.identity = NodeIdentity("fake", "validator", VALIDATOR.address,
                                     VALIDATOR.public_key)
        self.rpc_config = RpcConfig(commit_timeout_ms=50, max_subscriptions=2)
        self.rpc_urls = ["http://fake:1"]
        self.genesis: Genesis = devnet_genesis(CHAIN_ID, [("v1", VALIDATOR.public_key, 10)],
                                               SENDER.address)
        self.metrics = NodeMetrics()
        self.bus = EventBus()
        self.blocks = FakeBlocks()
        self.mempool = FakeMempool()
        self.members = [Validator(VALIDATOR.public_key, 10, "v1"),
                        Validator(SENDER.public_key, 5, "v2")]
        self.round: ConsensusState = ConsensusState(2, 0, "prevote")
        self.heights: dict[str, int] = {}
        self.state: dict[str, Any] = {"accounts/balance": {"balance": 7}}
        self.preverified: list[list[bytes]] = []
        self.submitted: list[bytes] = []
        self.refuse: Exception | None = None
        self.included: dict[bytes, Inclusion] = {}

    def tip(self) -> ChainTip:
        height = max(self.blocks.stored, default=0)
        block = self.blocks.block(height)
        if block is None:
            return ChainTip(0, b"", b"", 0)
        return ChainTip(height, block.header.app_hash, block.hash(), block.header.time_ms)

    def validators(self) -> Sequence[Validator]:
        return self.members

    def consensus_state(self) -> ConsensusState:
        return self.round

    def query(self, path: str, data: dict[str, Any]) -> Any:
        if path == "boom/boom":
            raise RuntimeError("a bug in a query")
        if path not in self.state:
            raise UnknownQuery(f"unknown query {path}")
        return self.state[path]

    def peers(self) -> list[str]:
        return sorted(self.heights)

    def peer_heights(self) -> Mapping[str, int]:
        return self.heights

    def p2p_addresses(self) -> list[str]:
        return ["/ip4/127.0.0.1/tcp/1"]

    def preverify(self, raws: list[bytes]) -> None:
        self.preverified.append(raws)

    def submit_tx(self, raw: bytes, gossip: bool = True) -> bytes:
        if self.refuse is not None:
            raise self.refuse
        self.submitted.append(raw)
        return sha256(raw)

    async def wait_for_commit(self, tx_id: bytes, timeout_s: float) -> Inclusion | None:
        return self.included.get(tx_id)


def as_port(node: FakeNode) -> RpcPort:
    return node  # mypy checks the fake against the port here


@pytest.fixture
def node() -> FakeNode:
    fake = FakeNode()
    first = signed_tx(0)
    fake.blocks.add(make_block(1, [first.raw, b"junk"]),
                    [TxResult(fee=10, events=[Event("accounts", "transfer", [("amount", "5")])]),
                     TxResult(code=2, codespace="vm", log="malformed")])
    fake.blocks.index[store_keys.sender_index(SENDER.address)] = [first.tx_id]
    return fake


@pytest.fixture
def server(node: FakeNode) -> JsonRpcServer:
    return JsonRpcServer(as_port(node))


async def call(server: JsonRpcServer, method: str, **params: Any) -> Any:
    answer = await server.dispatch({"jsonrpc": "2.0", "id": 7, "method": method,
                                    "params": params})
    assert answer["id"] == 7
    json.dumps(answer)  # every answer is plain JSON
    return answer


async def result(server: JsonRpcServer, method: str, **params: Any) -> Any:
    answer = await call(server, method, **params)
    assert "error" not in answer, answer
    return answer["result"]


async def error(server: JsonRpcServer, method: str, **params: Any) -> dict[str, Any]:
    answer = await call(server, method, **params)
    assert "result" not in answer, answer
    found: dict[str, Any] = answer["error"]
    return found


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


# -- dispatch ---------------------------------------------------------------------


async def test_malformed_requests_get_standard_errors(server: JsonRpcServer) -> None:
    cases: list[tuple[Any, int]] = [
        ({"jsonrpc": "1.0", "id": 1, "method": "health"}, INVALID_REQUEST),
        ({"jsonrpc": "2.0", "id": 1, "method": 5}, INVALID_REQUEST),
        ({"jsonrpc": "2.0", "id": 1, "method": "health", "params": [1]}, INVALID_REQUEST),
        ({"jsonrpc": "2.0", "id": 1, "method": "nope"}, METHOD_NOT_FOUND),
        ([], INVALID_REQUEST),
        ("a string", INVALID_REQUEST),
    ]
    for payload, code in cases:
        answer = await server.dispatch(payload)
        assert answer["error"]["code"] == code, payload
    registry = server.node.metrics.registry  # counted when the request is a JSON object
    assert registry.get_sample_value("wattchain_rpc_errors_total",
                                     {"code": str(INVALID_REQUEST)}) == 3


async def test_notifications_get_no_answer_and_batches_answer_each(
        server: JsonRpcServer) -> None:
    assert await server.dispatch({"jsonrpc": "2.0", "method": "health"}) is None
    answers = await server.dispatch([
        {"jsonrpc": "2.0", "id": 1, "method": "health"},
        {"jsonrpc": "2.0", "method": "health"},
        {"jsonrpc": "2.0", "id": 2, "method": "nope"},
    ])
    assert [a["id"] for a in answers] == [1, 2]
    assert answers[0]["result"] == {} and answers[1]["error"]["code"] == METHOD_NOT_FOUND


async def test_a_bug_in_a_method_is_an_internal_error_without_details(
        server: JsonRpcServer) -> None:
    assert await error(server, "abci_query", path="boom/boom") == {
        "code": INTERNAL_ERROR, "message": "Internal error"}


async def test_subscriptions_need_a_websocket(server: JsonRpcServer) -> None:
    found = await error(server, "subscribe", query="tm.event='NewBlock'")
    assert found["code"] == SERVER_ERROR and "websocket" in found["data"]


# -- info -------------------------------------------------------------------------


async def test_status_reads_the_port(server: JsonRpcServer, node: FakeNode) -> None:
    node.heights = {"peer-a": 1, "peer-b": 5}
    node.mempool.pending[b"x"] = b"x"
    node.mempool.size_bytes = 120
    status = await result(server, "status")
    assert status["node_info"] == {"moniker": "fake", "network": CHAIN_ID,
                                   "version": status["node_info"]["version"],
                                   "rpc": ["http://fake:1"]}
    assert status["sync_info"]["latest_block_height"] == 1
    assert status["sync_info"]["latest_app_hash"] == (b"\x01" * 32).hex()
    assert status["sync_info"]["catching_up"] is True  # a peer is at 5, we are at 1
    assert status["consensus"] == {"height": 2, "round": 0, "step": "prevote",
                                   "validators": 2, "total_power": 15, "mode": "validator"}
    assert status["peers"] == 2
    assert status["validator_info"] == {"address": format_address(VALIDATOR.address),
                                        "public_key": VALIDATOR.public_key.hex(),
                                        "voting_power": 10}
    assert status["mempool"] == {"size": 1, "bytes": 120}


async def test_net_info_and_validators(server: JsonRpcServer, node: FakeNode) -> None:
    node.heights = {"peer-a": 3}
    info = await result(server, "net_info")
    assert info["p2p"] == ["/ip4/127.0.0.1/tcp/1"]
    assert info["peers"] == [{"id": "peer-a", "height": 3}]
    validators = await result(server, "validators")
    assert validators["block_height"] == 1 and validators["count"] == 2
    assert validators["validators"][0]["name"] == "v1"


# -- blocks -----------------------------------------------------------------------


async def test_block_by_height_and_by_hash(server: JsonRpcServer, node: FakeNode) -> None:
    block = node.blocks.block(1)
    assert block is not None
    by_height = await result(server, "block", height=1)
    assert by_height == await result(server, "block", hash=block.hash().hex())
    assert by_height["block_id"]["hash"] == block.hash().hex()
    assert by_height["block"]["txs"] == [b64(raw) for raw in block.txs]
    assert (await error(server, "block", height=2))["code"] == INVALID_PARAMS
    assert (await error(server, "block", hash="00" * 32))["code"] == NOT_FOUND
    assert (await error(server, "block", hash="xyz"))["code"] == INVALID_PARAMS


async def test_block_results_and_commit(server: JsonRpcServer) -> None:
    results = await result(server, "block_results", height=1)
    assert [r["code"] for r in results["txs_results"]] == [0, 2]
    assert results["app_hash"] == (b"\x01" * 32).hex()
    commit = await result(server, "commit")
    assert commit["signed_header"]["commit"]["height"] == 1


async def test_no_block_before_the_first(server: JsonRpcServer, node: FakeNode) -> None:
    node.blocks.stored.clear()
    assert (await error(server, "block"))["code"] == NOT_FOUND
    assert (await result(server, "blockchain"))["block_metas"] == []


# -- transactions -----------------------------------------------------------------


async def test_tx_found_pending_or_unknown(server: JsonRpcServer, node: FakeNode) -> None:
    committed = signed_tx(0)
    found = await result(server, "tx", hash=committed.tx_id.hex())
    assert (found["height"], found["index"]) == (1, 0)
    assert found["decoded"]["module"] == "accounts"
    assert found["tx_result"]["events"][0]["attributes"] == {"amount": "5"}
    pending = signed_tx(1)
    node.mempool.pending[pending.tx_id] = pending.raw
    assert "mempool" in (await error(server, "tx", hash=pending.tx_id.hex()))["data"]
    assert "unknown" in (await error(server, "tx", hash="11" * 32))["data"]


async def test_tx_search_reads_the_index(server: JsonRpcServer) -> None:
    query = f"tx.sender='{format_address(SENDER.address)}' AND accounts.transfer.amount>=5"
    found = await result(server, "tx_search", query=query)
    assert found["total_count"] == 1 and found["txs"][0]["height"] == 1
    assert (await error(server, "tx_search", query="tx.code=0"))["code"] == INVALID_PARAMS


async def test_broadcast_submits_or_reports_the_refusal(server: JsonRpcServer,
                                                        node: FakeNode) -> None:
    raw = signed_tx(1).raw
    assert await result(server, "broadcast_tx_sync", tx=b64(raw)) == {
        "code": 0, "codespace": "", "log": "", "hash": sha256(raw).hex()}
    assert node.submitted == [raw]
    node.refuse = FeeTooLow("fee 1 is below the minimum 10")
    assert await result(server, "broadcast_tx_async", tx=b64(raw)) == {
        "code": 6, "codespace": "vm", "log": "fee 1 is below the minimum 10",
        "hash": sha256(raw).hex()}
    assert (await error(server, "broadcast_tx_sync", tx="not base64!"))["code"] == INVALID_PARAMS


async def test_a_batch_preverifies_its_broadcasts(server: JsonRpcServer,
                                                  node: FakeNode) -> None:
    raws = [signed_tx(1).raw, signed_tx(2).raw]
    await server.dispatch([{"jsonrpc": "2.0", "id": i, "method": "broadcast_tx_sync",
                            "params": {"tx": b64(raw)}} for i, raw in enumerate(raws)])
    assert node.preverified == [raws]
    assert node.submitted == raws


async def test_broadcast_commit_waits_for_the_inclusion(server: JsonRpcServer,
                                                        node: FakeNode) -> None:
    raw = signed_tx(1).raw
    node.included[sha256(raw)] = Inclusion(2, 3, TxResult(fee=10))
    answer = await result(server, "broadcast_tx_commit", tx=b64(raw))
    assert (answer["height"], answer["index"]) == (2, 3)
    assert answer["check_tx"]["code"] == 0 and answer["tx_result"]["fee"] == 10
    node.included.clear()
    node.refuse = DuplicateTx("already in the mempool")  # pending already: it waits too
    timed_out = await error(server, "broadcast_tx_commit", tx=b64(raw))
    assert timed_out["code"] == TIMEOUT and timed_out["data"]["timeout_ms"] == 50


# -- state queries ----------------------------------------------------------------


async def test_abci_query_answers_or_reports(server: JsonRpcServer) -> None:
    answer = await result(server, "abci_query", path="/accounts/balance/")
    assert answer["response"] == {"code": 0, "codespace": "", "log": "",
                                  "value": {"balance": 7}, "height": 1}
    unknown = (await result(server, "abci_query", path="nope/nope"))["response"]
    assert (unknown["code"], unknown["codespace"]) == (31, "query")
    assert (await error(server, "abci_query", path="accounts/balance",
                        height=5))["code"] == INVALID_PARAMS


# -- subscriptions ----------------------------------------------------------------


class FakeSocket:
    def __init__(self) -> None:
        self.sent: list[Any] = []

    async def send_text(self, data: str) -> None:
        self.sent.append(json.loads(data))


async def test_subscribe_forwards_matching_events(server: JsonRpcServer,
                                                  node: FakeNode) -> None:
    socket = FakeSocket()
    connection = WebsocketConnection(socket)

    async def ask(method: str, request_id: int, **params: Any) -> Any:
        return await server.dispatch({"jsonrpc": "2.0", "id": request_id, "method": method,
                                      "params": params}, websocket=connection)

    async with trio.open_nursery() as nursery:
        connection.nursery = nursery
        answer = await ask("subscribe", 1, query="tm.event='NewBlock'")
        assert answer == {"jsonrpc": "2.0", "id": 1, "result": {}}
        assert (await ask("subscribe", 2, query="tm.event='NewBlock'"))["error"]["message"] == (
            "Already subscribed")
        await ask("subscribe", 3, query="tm.event='Tx'")
        assert (await ask("subscribe", 4, query="tx.height=1"))["error"]["message"] == (
            "Too many subscriptions")
        node.bus.publish({"tm.event": ["NewBlock"]}, {"height": 9})
        node.bus.publish({"tm.event": ["EndBlock"]}, {"height": 9})
        await trio.testing.wait_all_tasks_blocked()
        assert socket.sent == [{"jsonrpc": "2.0", "id": 1, "result": {
            "query": "tm.event='NewBlock'", "data": {"height": 9},
            "events": {"tm.event": ["NewBlock"]}}}]
        assert (await ask("unsubscribe", 5, query="tm.event='NewBlock'"))["result"] == {}
        assert (await ask("unsubscribe", 6, query="tm.event='NewBlock'"))["error"][
            "message"] == "Not subscribed"
        assert (await ask("unsubscribe_all", 7))["result"] == {}
        assert node.bus.subscriptions == []
