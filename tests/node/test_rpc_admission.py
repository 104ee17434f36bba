"""Admission control at the RPC edge (rpc_admission): tx submissions refused as
busy, before parsing or signature checks, with retry_after_ms and Retry-After.

Against the fake port of test_rpc_port over ASGI (no process, no socket), and
one node running in this process.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from node_helpers import make_devnet, make_genesis, rpc_client, running_node, websocket_url
from test_rpc_port import FakeNode, as_port, signed_tx
from trio_websocket import open_websocket_url

from wattchain.crypto import PrivateKey
from wattchain.node import rpc as rpc_module
from wattchain.node.block_sizer import MIN_BLOCK_TXS, MIN_HIGH_WATER, BlockSizer
from wattchain.node.chain import Chain
from wattchain.node.config import NodeConfig
from wattchain.node.rpc import build_app
from wattchain.node.rpc_admission import Busy, TxAdmission
from wattchain.node.rpc_errors import SERVER_BUSY


def tx_batch(count: int, method: str = "broadcast_tx_sync") -> list[dict[str, Any]]:
    return [{"jsonrpc": "2.0", "id": i, "method": method,
             "params": {"tx": base64.b64encode(signed_tx(i).raw).decode()}}
            for i in range(count)]


async def post(node: FakeNode, payload: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=build_app(as_port(node)))
    async with httpx.AsyncClient(transport=transport, base_url="http://rpc") as client:
        return await client.post("/", content=json.dumps(payload))


class Gauge:
    def __init__(self, size: int, high_water: int) -> None:
        self.size = size
        self.high_water = high_water

    def __len__(self) -> int:
        return self.size


def assert_busy(answer: dict[str, Any]) -> None:
    error = answer["error"]
    assert error["code"] == SERVER_BUSY == -32009
    assert error["message"] == "Server busy"
    assert error["data"]["retry_after_ms"] == 250
    assert isinstance(error["data"]["reason"], str)


async def test_a_batch_at_the_high_water_mark_is_busy_with_retry_after() -> None:
    node = FakeNode()
    node.mempool.high_water = 0
    response = await post(node, tx_batch(100))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert_busy(response.json())
    assert node.preverified == [] and node.submitted == []  # no signature was checked
    assert node.metrics.rpc_errors.labels(str(SERVER_BUSY))._value.get() == 1


async def test_refused_before_the_body_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_parsing(body: Any) -> Any:
        raise AssertionError("a busy refusal must not parse the body")

    monkeypatch.setattr(rpc_module, "parse_json", no_parsing)
    node = FakeNode()
    node.mempool.high_water = 0
    response = await post(node, {"jsonrpc": "2.0", "id": 1, "method": "broadcast_tx_commit",
                                 "params": {"tx": "AAAA"}})
    assert_busy(response.json())


async def test_below_the_mark_txs_are_admitted_and_other_calls_always_answered() -> None:
    node = FakeNode()
    answers = (await post(node, tx_batch(3))).json()
    assert [a["result"]["code"] for a in answers] == [0, 0, 0]
    assert len(node.submitted) == 3
    node.mempool.high_water = 0
    status = await post(node, {"jsonrpc": "2.0", "id": 1, "method": "status"})
    assert status.status_code == 200 and "result" in status.json()


async def test_in_flight_txs_are_released_after_the_request() -> None:
    node = FakeNode()
    transport = httpx.ASGITransport(app=build_app(as_port(node)))
    async with httpx.AsyncClient(transport=transport, base_url="http://rpc") as client:
        for _ in range(3):
            response = await client.post("/", content=json.dumps(tx_batch(50)))
            assert response.status_code == 200
    assert len(node.submitted) == 150


def test_the_per_client_budget() -> None:
    admission = TxAdmission(Gauge(0, 100), per_client=150, total=1_000, retry_after_ms=250)
    with admission.admitted("a", b"broadcast_tx" * 100):
        with pytest.raises(Busy) as refused:
            admission.check("a", 100)
        assert refused.value.to_json()["data"]["retry_after_ms"] == 250
        assert refused.value.retry_after_header() == "1"
        admission.check("a", 50)  # within the budget
        admission.check("b", 100)  # another client has its own
    assert admission.inflight == {} and admission.inflight_total == 0


def test_the_total_budget_and_a_first_request_always_passes() -> None:
    admission = TxAdmission(Gauge(0, 100), per_client=1_000, total=120, retry_after_ms=250)
    admission.check("a", 500)  # nothing in flight: one request may always come in
    with admission.admitted("a", "broadcast_tx" * 100):  # websocket text counts too
        with pytest.raises(Busy):
            admission.check("b", 50)
        admission.check("b", 20)


def test_the_high_water_mark() -> None:
    pool = Gauge(99, 100)
    admission = TxAdmission(pool, per_client=10, total=10, retry_after_ms=250)
    admission.check("a", 1)
    pool.size = 100
    with pytest.raises(Busy):
        admission.check("a", 1)
    with admission.admitted("a", b'{"method": "status"}'):
        pass  # no tx in the body: no admission at all


def test_the_high_water_mark_is_a_second_of_the_commit_rate() -> None:
    sizer = BlockSizer(budget_ms=500)
    for second in range(30):
        sizer.record_commit(3_000, float(second))  # 3,000 txs a second
    assert 2_900 <= sizer.high_water(50_000) <= 3_000
    assert sizer.high_water(1_000) == 800  # never above 80 % of the pool
    for second in range(30, 60):
        sizer.record_commit(0, float(second))  # idle: the floor
    assert sizer.high_water(50_000) == MIN_HIGH_WATER


def test_the_block_cap_follows_the_measured_execution_time() -> None:
    sizer = BlockSizer(budget_ms=500)
    assert sizer.cap(5_000) == 5_000  # nothing measured yet
    sizer.record(1_000, 0.5)  # 0.5 ms a tx: 1,000 fit in 500 ms
    assert sizer.cap(5_000) == 1_000
    assert sizer.high_water(50_000) == MIN_HIGH_WATER  # no commit rate measured yet
    for _ in range(30):
        sizer.record(1_000, 0.05)  # faster now: the cap grows to the protocol's limit
    assert sizer.cap(5_000) == 5_000
    for _ in range(30):
        sizer.record(1_000, 100.0)  # very slow: never below the floor
    assert sizer.cap(5_000) == MIN_BLOCK_TXS
    sizer.record(3, 100.0)  # a tiny block says nothing about txs
    assert sizer.cap(5_000) == MIN_BLOCK_TXS


# -- a real node in this process ------------------------------------------------------


async def test_a_busy_node_verifies_no_signature(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def configure(config: NodeConfig) -> None:
        config.mempool.max_txs = 10  # high-water mark: 8 pending txs

    devnet = make_devnet(tmp_path / "home", configure)
    async with running_node(devnet) as node, rpc_client(node) as rpc:
        verified: list[int] = []
        vm_class = type(node.chain.vm)
        one, many = vm_class.verify_signature, vm_class.verify_signatures
        monkeypatch.setattr(vm_class, "verify_signature",
                            lambda vm, stx: (verified.append(1), one(vm, stx))[1])
        monkeypatch.setattr(vm_class, "verify_signatures",
                            lambda vm, stxs, threads=1: (verified.append(len(stxs)),
                                                         many(vm, stxs, threads))[1])
        recipient = PrivateKey(b"\x44" * 32).address

        def batch(first: int, count: int) -> list[dict[str, Any]]:
            return [{"jsonrpc": "2.0", "id": n, "method": "broadcast_tx_sync",
                     "params": {"tx": base64.b64encode(
                         devnet.transfer(n, recipient, 1).raw).decode()}}
                    for n in range(first, first + count)]

        admitted = await rpc.post(batch(0, 8))
        assert [a["result"]["code"] for a in admitted.json()] == [0] * 8
        assert sum(verified) == 8
        refused = await rpc.post(batch(8, 5))
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "1"
        assert_busy(refused.json())
        async with open_websocket_url(websocket_url(node)) as websocket:
            await websocket.send_message(json.dumps(batch(8, 5)))
            assert_busy(json.loads(await websocket.get_message()))
        assert sum(verified) == 8  # the refused batches cost no signature check
        assert len(node.chain.mempool) == 8
        assert "result" in (await rpc.request("status"))  # other calls are served


def test_the_cap_limits_only_what_this_node_proposes(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    chain = Chain(tmp_path / "chain.db", make_genesis(), None, block_budget_ms=500)
    try:
        assert chain.sizer is not None
        chain.sizer.seconds_per_tx = 0.05  # slow: 10 txs fit in 500 ms, the floor is 100
        asked: list[int] = []
        monkeypatch.setattr(chain.mempool, "reap",
                            lambda max_txs, max_bytes: asked.append(max_txs) or [])
        height, time_ms = chain.tip.height + 1, chain.tip.time_ms + 1
        block = chain.propose_block(height, time_ms, b"\x01" * 20, chain.last_commit)
        assert asked == [MIN_BLOCK_TXS] == [chain.block_cap()]
        # another proposer's bigger block is valid here: validation ignores local timing
        block.txs.extend([b"junk"] * (MIN_BLOCK_TXS * 3))
        chain.validate_proposal(block)
    finally:
        chain.close()
