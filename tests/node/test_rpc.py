"""JSON-RPC over HTTP and websocket against an in-process node.

Each test starts its own node on a free port (make_devnet + running_node) and
cancels it at the end. Blocks are made by the test (``node.produce_block()``)
unless a test needs the producer task, so heights are predictable. Every HTTP
answer goes through ``check_sane``: never a 500, never a traceback.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trio
from chain_helpers import ALICE, BOB
from node_helpers import (
    Devnet,
    RpcClient,
    RpcFailure,
    WebsocketClient,
    make_devnet,
    rpc_client,
    running_node,
    websocket_client,
)

from wattchain.crypto import PrivateKey, format_address
from wattchain.node.config import NodeConfig
from wattchain.node.node import Node
from wattchain.types import SignedTx

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
SERVER_ERROR = -32000
NOT_FOUND = -32002
TIMEOUT = -32001
RATE_LIMITED = -32005
TOO_LARGE = -32006


@pytest.fixture
def devnet(tmp_path: Path) -> Devnet:
    return make_devnet(tmp_path / "home")


@pytest.fixture
async def node(devnet: Devnet) -> AsyncIterator[Node]:
    async with running_node(devnet) as node:
        yield node


@pytest.fixture
async def rpc(node: Node) -> AsyncIterator[RpcClient]:
    async with rpc_client(node) as client:
        yield client


def b64(stx: SignedTx) -> str:
    return base64.b64encode(stx.raw).decode()


def address(holder: PrivateKey) -> str:
    text: str = format_address(holder.address)
    return text


async def commit_transfers(node: Node, devnet: Devnet, recipients: list[Any]) -> list[SignedTx]:
    """One block with a faucet transfer of 100 to each recipient, in order."""
    nonce = node.chain.vm.ledger.get_nonce(node.chain.state, devnet.faucet.address)
    sent = [devnet.transfer(nonce + i, r.address, 100) for i, r in enumerate(recipients)]
    for stx in sent:
        node.submit_tx(stx.raw)
    committed = node.produce_block()
    assert [r.code for r in committed.result.tx_results] == [0] * len(sent)
    return sent


# -- info methods -------------------------------------------------------------------------


async def test_status_health_net_info_genesis_validators(node: Node, rpc: RpcClient,
                                                        devnet: Devnet) -> None:
    status = await rpc.call("status")
    assert status["node_info"]["network"] == devnet.chain_id
    assert status["node_info"]["rpc"] == node.rpc_urls
    assert status["sync_info"]["latest_block_height"] == 0
    assert status["validator_info"]["address"] == format_address(node.validator_key.address)
    assert status["validator_info"]["voting_power"] == 10
    committed = node.produce_block()
    status = await rpc.call("status")
    assert status["sync_info"]["latest_block_height"] == 1
    assert status["sync_info"]["latest_block_hash"] == committed.tip.block_hash.hex()
    assert status["sync_info"]["latest_app_hash"] == committed.result.app_hash.hex()

    assert await rpc.call("health") == {}
    net_info = await rpc.call("net_info")
    assert net_info["listeners"] == node.rpc_urls and net_info["n_peers"] == 0
    genesis = (await rpc.call("genesis"))["genesis"]
    assert genesis["chain_id"] == devnet.chain_id
    validators = await rpc.call("validators")
    assert validators["count"] == 1 and validators["block_height"] == 1
    assert validators["validators"][0]["address"] == status["validator_info"]["address"]


async def test_block_by_latest_height_and_hash(node: Node, rpc: RpcClient,
                                               devnet: Devnet) -> None:
    assert (await rpc.error("block"))["code"] == NOT_FOUND  # nothing committed yet
    (stx,) = await commit_transfers(node, devnet, [ALICE])
    second = node.produce_block()

    latest = await rpc.call("block")
    assert latest["block"]["header"]["height"] == 2
    assert latest["block_id"]["hash"] == second.tip.block_hash.hex()
    first = await rpc.call("block", height=1)
    assert first["block"]["txs"] == [b64(stx)]
    assert first["block"]["header"]["chain_id"] == devnet.chain_id
    assert latest["block"]["header"]["prev_block_hash"] == first["block_id"]["hash"]
    assert latest["block"]["last_commit"]["block_hash"] == first["block_id"]["hash"]
    by_hash = await rpc.call("block", hash=first["block_id"]["hash"])
    assert by_hash == first
    assert await rpc.call("block", hash="0x" + first["block_id"]["hash"]) == first

    assert (await rpc.error("block", height=3))["code"] == INVALID_PARAMS  # above the tip
    assert (await rpc.error("block", height=0))["code"] == INVALID_PARAMS
    assert (await rpc.error("block", height="one"))["code"] == INVALID_PARAMS
    assert (await rpc.error("block", hash="ab" * 32))["code"] == NOT_FOUND
    assert (await rpc.error("block", hash="xyz"))["code"] == INVALID_PARAMS


async def test_block_results_commit_and_blockchain(node: Node, rpc: RpcClient,
                                                   devnet: Devnet) -> None:
    assert await rpc.call("blockchain") == {"last_height": 0, "block_metas": []}
    await commit_transfers(node, devnet, [ALICE, BOB])
    node.produce_block()
    node.produce_block()

    results = await rpc.call("block_results", height=1)
    assert [r["code"] for r in results["txs_results"]] == [0, 0]
    transfer_event = results["txs_results"][1]["events"][0]
    assert transfer_event["kind"] == "transfer"
    assert transfer_event["attributes"]["recipient"] == address(BOB)
    app_hash = node.chain.store.app_hash(1)
    assert app_hash is not None and results["app_hash"] == app_hash.hex()
    assert (await rpc.call("block_results"))["height"] == 3

    commit = await rpc.call("commit", height=2)
    block = await rpc.call("block", height=2)
    assert commit["signed_header"]["header"] == block["block"]["header"]
    assert commit["signed_header"]["commit"]["height"] == 2
    assert commit["signed_header"]["commit"]["block_hash"] == block["block_id"]["hash"]
    assert (await rpc.error("commit", height=4))["code"] == INVALID_PARAMS

    chain = await rpc.call("blockchain")
    assert chain["last_height"] == 3
    assert [m["header"]["height"] for m in chain["block_metas"]] == [3, 2, 1]
    assert [m["num_txs"] for m in chain["block_metas"]] == [0, 0, 2]
    window = await rpc.call("blockchain", min_height=2, max_height=2)
    assert [m["header"]["height"] for m in window["block_metas"]] == [2]
    assert (await rpc.error("blockchain", min_height=3, max_height=2))["code"] == INVALID_PARAMS


# -- transactions -----------------------------------------------------------------------------


async def test_tx_found_unknown_and_pending(node: Node, rpc: RpcClient, devnet: Devnet) -> None:
    (stx,) = await commit_transfers(node, devnet, [ALICE])
    found = await rpc.call("tx", hash=stx.tx_id.hex())
    assert (found["hash"], found["height"], found["index"]) == (stx.tx_id.hex(), 1, 0)
    assert found["tx"] == b64(stx)
    assert found["tx_result"]["code"] == 0 and found["tx_result"]["fee"] == 10
    assert found["decoded"]["sender"] == address(devnet.faucet)
    assert found["decoded"]["args"] == [address(ALICE), 100]

    unknown = await rpc.error("tx", hash="cd" * 32)
    assert unknown["code"] == NOT_FOUND and "unknown tx" in unknown["data"]
    pending = devnet.transfer(1, BOB.address, 5)
    node.submit_tx(pending.raw)
    error = await rpc.error("tx", hash=pending.tx_id.hex())
    assert error["code"] == NOT_FOUND and "mempool" in error["data"]
    assert (await rpc.error("tx", hash="00"))["code"] == INVALID_PARAMS


async def test_tx_search(node: Node, rpc: RpcClient, devnet: Devnet) -> None:
    first = await commit_transfers(node, devnet, [ALICE, BOB])
    second = await commit_transfers(node, devnet, [ALICE])
    sent = [stx.tx_id.hex() for stx in first + second]
    faucet = address(devnet.faucet)

    async def hashes(query: str, **options: Any) -> tuple[list[str], int]:
        found = await rpc.call("tx_search", query=query, **options)
        return [tx["hash"] for tx in found["txs"]], found["total_count"]

    assert await hashes(f"tx.sender='{faucet}'") == (sent, 3)
    assert await hashes("tx.module='accounts'") == (sent, 3)
    assert await hashes("tx.module='metering'") == ([], 0)
    assert await hashes(f"accounts.transfer.recipient='{address(ALICE)}'") == (
        [sent[0], sent[2]], 2)
    assert await hashes(f"tx.sender='{faucet}' AND accounts.transfer.recipient="
                        f"'{address(BOB)}'") == ([sent[1]], 1)
    assert await hashes(f"tx.sender='{faucet}' AND tx.height>=2") == ([sent[2]], 1)
    assert await hashes(f"tx.sender='{address(ALICE)}'") == ([], 0)
    assert await hashes(f"tx.sender='{faucet}'", per_page=2) == (sent[:2], 3)
    assert await hashes(f"tx.sender='{faucet}'", per_page=2, page=2) == (sent[2:], 3)
    assert await hashes(f"tx.sender='{faucet}'", per_page=2, page=3) == ([], 3)
    assert await hashes(f"tx.sender='{faucet}'", order_by="desc") == (sent[::-1], 3)
    assert await hashes(f"tx.sender='{faucet}'", order_by="desc", per_page=1, page=2) == (
        [sent[1]], 3)

    for bad in ["", "tx.sender", "tx.sender==1", "tx.height>=1",  # the last is not indexed
                "tx.sender='not-an-address'"]:
        assert (await rpc.error("tx_search", query=bad))["code"] == INVALID_PARAMS, bad
    bad_options: list[dict[str, Any]] = [
        {"query": 5}, {}, {"query": "tx.module='x'", "order_by": "up"},
        {"query": "tx.module='x'", "page": 0}, {"query": "tx.module='x'", "per_page": "many"}]
    for options in bad_options:
        assert (await rpc.error("tx_search", **options))["code"] == INVALID_PARAMS, options


async def test_broadcast_async_and_sync(node: Node, rpc: RpcClient, devnet: Devnet) -> None:
    assert await rpc.call("num_unconfirmed_txs") == {"n_txs": 0, "total": 0, "total_bytes": 0}
    first, second = devnet.transfer(0, ALICE.address, 1), devnet.transfer(1, BOB.address, 2)
    answer = await rpc.call("broadcast_tx_async", tx=b64(first))
    assert answer == {"code": 0, "codespace": "", "log": "", "hash": first.tx_id.hex()}
    answer = await rpc.call("broadcast_tx_sync", tx=b64(second))
    assert answer["code"] == 0 and answer["hash"] == second.tx_id.hex()
    assert await rpc.call("num_unconfirmed_txs") == {
        "n_txs": 2, "total": 2, "total_bytes": len(first.raw) + len(second.raw)}

    # Refused txs are answers with a code, not RPC errors.
    duplicate = await rpc.call("broadcast_tx_sync", tx=b64(first))
    assert duplicate["code"] == 22 and duplicate["codespace"] == "mempool"
    assert duplicate["hash"] == first.tx_id.hex()
    stale = devnet.transfer(0, ALICE.address, 3)
    node.produce_block()
    refused = await rpc.call("broadcast_tx_sync", tx=b64(stale))
    assert refused["code"] == 5 and "nonce" in refused["log"]
    garbage = await rpc.call("broadcast_tx_async", tx=base64.b64encode(b"junk").decode())
    assert garbage["code"] == 2
    assert (await rpc.error("broadcast_tx_sync", tx="not base64!"))["code"] == INVALID_PARAMS
    assert (await rpc.error("broadcast_tx_sync"))["code"] == INVALID_PARAMS
    assert (await rpc.call("num_unconfirmed_txs"))["n_txs"] == 0
    assert node.chain.height == 1


async def test_broadcast_tx_commit(tmp_path: Path) -> None:
    devnet = make_devnet(tmp_path / "home", block_ms=10)  # the producer task makes blocks
    async with running_node(devnet) as node, rpc_client(node) as rpc:
        stx = devnet.transfer(0, ALICE.address, 1_234)
        answer = await rpc.call("broadcast_tx_commit", tx=b64(stx))
        assert answer["check_tx"]["code"] == 0
        assert answer["tx_result"]["code"] == 0
        assert answer["hash"] == stx.tx_id.hex()
        assert answer["height"] == 1 and answer["index"] == 0
        assert answer["tx_result"]["events"][0]["attributes"]["amount"] == "1234"

        refused = await rpc.call("broadcast_tx_commit", tx=b64(stx))  # now a stale nonce
        assert refused["check_tx"]["code"] == 5
        assert refused["tx_result"] is None and refused["height"] == 0

        # A tx that is valid but fails in its handler is committed with its code.
        failing = devnet.transfer(1, ALICE.address, 2**62)  # more than the faucet holds
        answer = await rpc.call("broadcast_tx_commit", tx=b64(failing))
        assert answer["check_tx"]["code"] == 0
        assert answer["tx_result"]["code"] != 0 and answer["height"] == 2


async def test_broadcast_tx_commit_times_out_without_a_block(tmp_path: Path) -> None:
    def configure(config: NodeConfig) -> None:
        config.rpc.commit_timeout_ms = 50

    devnet = make_devnet(tmp_path / "home", configure)  # the producer makes no block
    async with running_node(devnet) as node, rpc_client(node) as rpc:
        stx = devnet.transfer(0, ALICE.address, 1)
        error = await rpc.error("broadcast_tx_commit", tx=b64(stx))
        assert error["code"] == TIMEOUT
        assert error["data"] == {"hash": stx.tx_id.hex(), "timeout_ms": 50}
        assert node.waiters.waiting == {}
        assert stx.tx_id in node.chain.mempool  # still pending: a later block takes it
        node.produce_block()
        assert (await rpc.call("tx", hash=stx.tx_id.hex()))["height"] == 1


# -- abci_query -------------------------------------------------------------------------------


async def test_abci_query(node: Node, rpc: RpcClient, devnet: Devnet) -> None:
    await commit_transfers(node, devnet, [ALICE])

    async def query(path: str, data: Any = None, **options: Any) -> dict[str, Any]:
        params = {"path": path, **options} if data is None else {"path": path, "data": data,
                                                                   **options}
        response: dict[str, Any] = (await rpc.call("abci_query", **params))["response"]
        assert response["height"] == 1
        return response

    alice = await query("accounts/account", {"address": address(ALICE)})
    assert alice["code"] == 0
    assert alice["value"] == {"address": address(ALICE), "balance": 100, "nonce": 0,
                              "roles": []}
    assert (await query("accounts/balance", {"address": address(ALICE)}))["value"][
        "balance"] == 100
    assert (await query("/accounts/supply/"))["value"]["fee_pool"] == 10
    admins = await query("accounts/role", {"role": "admin"})
    assert admins["value"]["accounts"] == [address(devnet.faucet)]
    assert (await query("accounts/proposals"))["value"] == {"proposals": []}
    assert (await query("chain/params"))["value"]["min_fee"] == 10
    validators = (await query("chain/validators", height=0))["value"]
    assert validators["validators"][0]["address"] == format_address(
        node.validator_key.address)

    unknown = await query("accounts/nothing")
    assert unknown["code"] == 31 and unknown["value"] is None and "known:" in unknown["log"]
    bad_address = await query("accounts/balance", {"address": "0x12"})
    assert bad_address["code"] == 32 and bad_address["codespace"] == "query"
    bad_params: list[dict[str, Any]] = [
        {"path": "chain/params", "data": [1, 2]}, {"path": "chain/params", "data": "text"},
        {"path": 7}, {}, {"path": "chain/params", "height": 5}]
    for params in bad_params:
        assert (await rpc.error("abci_query", **params))["code"] == INVALID_PARAMS, params


# -- plain GET --------------------------------------------------------------------------------


async def test_get_endpoints(node: Node, rpc: RpcClient, devnet: Devnet) -> None:
    await commit_transfers(node, devnet, [ALICE])
    status = await rpc.get("/status")
    assert status.status_code == 200
    assert status.json()["result"]["sync_info"]["latest_block_height"] == 1
    block = await rpc.get("/block", params={"height": 1})
    assert block.json()["result"]["block"]["header"]["height"] == 1
    query = await rpc.get("/abci_query", params={"path": "\"accounts/supply\""})
    assert query.json()["result"]["response"]["code"] == 0
    bad = await rpc.get("/block", params={"height": "abc"})
    assert bad.json()["error"]["code"] == INVALID_PARAMS
    unknown = await rpc.get("/no_such_method")
    assert unknown.json()["error"]["code"] == METHOD_NOT_FOUND
    index = await rpc.get("/")
    assert "status" in index.json()["methods"]

    metrics = await rpc.get("/metrics")
    assert metrics.status_code == 200
    assert "wattchain_height 1.0" in metrics.text
    assert "wattchain_txs_total 1.0" in metrics.text
    assert 'wattchain_rpc_requests_total{method="status"}' in metrics.text


# -- bad requests -----------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "code"), [
    (b"{not json", PARSE_ERROR),
    (b"\xff\xfe", PARSE_ERROR),
    (b"", PARSE_ERROR),
    (b"[" * 50_000 + b"]" * 50_000, PARSE_ERROR),  # nested too deep for the parser
    (b"42", INVALID_REQUEST),
    (b"\"status\"", INVALID_REQUEST),
    (b"null", INVALID_REQUEST),
    (b'{"id": 1, "method": "status"}', INVALID_REQUEST),
    (b'{"jsonrpc": "1.0", "id": 1, "method": "status"}', INVALID_REQUEST),
    (b'{"jsonrpc": "2.0", "id": 1, "method": 5}', INVALID_REQUEST),
    (b'{"jsonrpc": "2.0", "id": 1}', INVALID_REQUEST),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "block", "params": "height=1"}', INVALID_REQUEST),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "block", "params": 1}', INVALID_REQUEST),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "nope"}', METHOD_NOT_FOUND),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "block", "params": {"height": -1}}',
     INVALID_PARAMS),
    (b"[]", INVALID_REQUEST),
])
async def test_bad_bodies_get_json_rpc_errors(rpc: RpcClient, body: bytes, code: int) -> None:
    response = await rpc.post(content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200
    answer = response.json()
    assert answer["jsonrpc"] == "2.0"
    assert answer["error"]["code"] == code
    assert answer["id"] in (None, 1)


@pytest.mark.parametrize("bad_id", [1.5, {"a": 1}, [1], True, [[[[[[]]]]]]])
async def test_an_id_of_the_wrong_type_is_refused_and_not_echoed(rpc: RpcClient,
                                                                 bad_id: Any) -> None:
    response = await rpc.post({"jsonrpc": "2.0", "id": bad_id, "method": "health"})
    answer = response.json()
    assert answer["error"]["code"] == INVALID_REQUEST
    assert answer["id"] is None


async def test_batches(rpc: RpcClient) -> None:
    batch = [
        {"jsonrpc": "2.0", "id": "a", "method": "health"},
        {"jsonrpc": "2.0", "id": 2, "method": "nope"},
        {"jsonrpc": "2.0", "method": "health"},  # a notification: no answer
        7,
        {"jsonrpc": "2.0", "id": 3, "method": "num_unconfirmed_txs"},
    ]
    answers = (await rpc.post(batch)).json()
    assert [a["id"] for a in answers] == ["a", 2, None, 3]
    assert answers[0]["result"] == {}
    assert answers[1]["error"]["code"] == METHOD_NOT_FOUND
    assert answers[2]["error"]["code"] == INVALID_REQUEST
    assert answers[3]["result"]["n_txs"] == 0

    only_notifications = await rpc.post([{"jsonrpc": "2.0", "method": "health"}] * 3)
    assert only_notifications.status_code == 204 and only_notifications.content == b""
    empty = (await rpc.post([])).json()
    assert empty["error"]["code"] == INVALID_REQUEST and empty["id"] is None


async def test_a_batch_over_the_limit_is_refused(tmp_path: Path) -> None:
    def configure(config: NodeConfig) -> None:
        config.rpc.max_batch = 3

    devnet = make_devnet(tmp_path / "home", configure)
    async with running_node(devnet) as node, rpc_client(node) as rpc:
        call = {"jsonrpc": "2.0", "id": 1, "method": "health"}
        assert len((await rpc.post([call] * 3)).json()) == 3
        answer = (await rpc.post([call] * 4)).json()
        assert answer["error"]["code"] == INVALID_REQUEST
        assert "limit of 3" in answer["error"]["data"]


async def test_a_notification_gets_no_answer(node: Node, rpc: RpcClient,
                                             devnet: Devnet) -> None:
    stx = devnet.transfer(0, ALICE.address, 1)
    response = await rpc.post({"jsonrpc": "2.0", "method": "broadcast_tx_async",
                               "params": {"tx": b64(stx)}})
    assert response.status_code == 204 and response.content == b""
    assert stx.tx_id in node.chain.mempool  # it was still carried out
    failing = await rpc.post({"jsonrpc": "2.0", "method": "nope"})
    assert failing.status_code == 204


async def test_an_oversized_body_is_refused_with_413(tmp_path: Path) -> None:
    def configure(config: NodeConfig) -> None:
        config.rpc.max_body_bytes = 1_000

    devnet = make_devnet(tmp_path / "home", configure)
    async with running_node(devnet) as node, rpc_client(node) as rpc:
        padding = "x" * 2_000
        body = {"jsonrpc": "2.0", "id": 1, "method": "health", "params": {"pad": padding}}
        response = await rpc.post(body)
        assert response.status_code == 413
        assert response.json()["error"]["code"] == TOO_LARGE

        async def chunks() -> AsyncIterator[bytes]:  # no content-length: read and counted
            for _ in range(4):
                yield b" " * 400

        response = await rpc.post(content=b" " * 1_600)
        assert response.status_code == 413
        streamed = await rpc.http.post(rpc.url, content=chunks())
        assert streamed.status_code == 413
        assert streamed.json()["error"]["code"] == TOO_LARGE
        assert await rpc.call("health") == {}  # small requests still work


async def test_too_many_requests_get_429(tmp_path: Path) -> None:
    def configure(config: NodeConfig) -> None:
        config.rpc.rate_limit_per_second = 1  # a burst of 2, then 1 per second

    devnet = make_devnet(tmp_path / "home", configure)
    async with running_node(devnet) as node, rpc_client(node) as rpc:
        body = {"jsonrpc": "2.0", "id": 1, "method": "health"}
        responses = [await rpc.post(body) for _ in range(6)]
        statuses = [r.status_code for r in responses]
        assert statuses[:2] == [200, 200]
        assert 429 in statuses
        limited = next(r for r in responses if r.status_code == 429)
        assert limited.json()["error"]["code"] == RATE_LIMITED
        assert limited.headers["retry-after"] == "1"
        assert (await rpc.get("/status")).status_code == 429
        assert (await rpc.get("/metrics")).status_code == 200  # scrapes are not limited


async def test_subscribe_over_http_is_refused(rpc: RpcClient) -> None:
    for method in ("subscribe", "unsubscribe", "unsubscribe_all"):
        error = await rpc.error(method, query="tm.event='NewBlock'")
        assert error["code"] == SERVER_ERROR and "websocket" in error["data"]


# -- websocket --------------------------------------------------------------------------------


async def subscribe(ws: WebsocketClient, query: str) -> int:
    answer = await ws.request("subscribe", query=query)
    assert answer["result"] == {}, answer
    return ws.next_id


async def test_websocket_new_block_events(node: Node) -> None:
    async with websocket_client(node) as ws:
        subscription = await subscribe(ws, "tm.event='NewBlock'")
        committed = node.produce_block()
        event = await ws.receive()
        assert event["id"] == subscription
        assert event["result"]["query"] == "tm.event='NewBlock'"
        assert event["result"]["data"]["height"] == 1
        assert event["result"]["data"]["hash"] == committed.tip.block_hash.hex()
        assert event["result"]["events"]["block.height"] == ["1"]
        node.produce_block()
        assert (await ws.receive())["result"]["data"]["height"] == 2

        assert (await ws.request("unsubscribe", query="tm.event='NewBlock'"))["result"] == {}
        assert node.bus.subscriptions == []
        node.produce_block()
        assert (await ws.request("health"))["result"] == {}  # and no event came first
        error = (await ws.request("unsubscribe", query="tm.event='NewBlock'"))["error"]
        assert error["code"] == SERVER_ERROR


async def test_websocket_tx_events_for_one_sender(node: Node, devnet: Devnet) -> None:
    faucet = address(devnet.faucet)
    query = f"tm.event='Tx' AND tx.sender='{faucet}'"
    async with websocket_client(node) as ws:
        subscription = await subscribe(ws, query)
        assert (await ws.request("subscribe", query=query))["error"]["code"] == SERVER_ERROR
        stx = devnet.transfer(0, ALICE.address, 77)
        check = await ws.request("broadcast_tx_sync", tx=b64(stx))
        assert check["result"]["code"] == 0
        node.produce_block()
        event = await ws.receive()
        assert event["id"] == subscription
        data = event["result"]["data"]
        assert (data["hash"], data["height"], data["index"]) == (stx.tx_id.hex(), 1, 0)
        assert data["result"]["code"] == 0
        assert data["result"]["events"][0]["attributes"]["amount"] == "77"
        assert event["result"]["events"]["tx.sender"] == [faucet]
        assert event["result"]["events"]["accounts.transfer.recipient"] == [address(ALICE)]
        assert (await ws.request("unsubscribe_all"))["result"] == {}
        assert node.bus.subscriptions == []


async def test_websocket_bad_input_keeps_the_connection(node: Node) -> None:
    async with websocket_client(node) as ws:
        await ws.send("this is not json")
        error = await ws.receive()
        assert error["error"]["code"] == PARSE_ERROR and error["id"] is None
        await ws.send("[" * 50_000)
        assert (await ws.receive())["error"]["code"] == PARSE_ERROR
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": 5, "method": "nope"}))
        assert (await ws.receive())["error"]["code"] == METHOD_NOT_FOUND
        bad_query = await ws.request("subscribe", query="tm.event")
        assert bad_query["error"]["code"] == INVALID_PARAMS
        await ws.send(json.dumps([{"jsonrpc": "2.0", "id": 6, "method": "health"},
                                  {"jsonrpc": "2.0", "id": 7, "method": "status"}]))
        batch = await ws.receive()
        assert [a["id"] for a in batch] == [6, 7]
        assert (await ws.request("health"))["result"] == {}


async def test_closing_a_websocket_ends_its_subscriptions(node: Node) -> None:
    async with websocket_client(node) as ws:
        await subscribe(ws, "tm.event='NewBlock'")
        await subscribe(ws, "tm.event='Tx'")
        assert len(node.bus.subscriptions) == 2
    with trio.fail_after(5):
        # The server notices the close in its own task; nothing to wait on but the state.
        while node.bus.subscriptions:  # noqa: ASYNC110
            await trio.sleep(0.01)
    node.produce_block()  # publishing to nobody is fine
    async with rpc_client(node) as rpc:
        assert (await rpc.call("status"))["sync_info"]["latest_block_height"] == 1


async def test_rpc_failure_helper_raises(rpc: RpcClient) -> None:
    with pytest.raises(RpcFailure) as caught:
        await rpc.call("nope")
    assert caught.value.rpc_code == METHOD_NOT_FOUND
