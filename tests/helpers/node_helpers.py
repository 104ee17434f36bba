"""In-process nodes for the node and RPC tests.

``make_devnet`` writes a single-validator devnet home (``init_home``) whose RPC
port is 0, so the OS picks a free one; ``running_node`` starts a ``Node`` in a
trio nursery and cancels it on exit, so no task, port or database is left
behind; ``RpcClient`` is the client library's async client checking every answer
for the things a node must never send (HTTP 500, a traceback).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import trio
from chain_helpers import (
    ALICE,
    BOB,
    CAROL,
    CHAIN_ID,
    VALIDATOR,
    account_entry,
    transfer,
)
from chain_helpers import make_genesis as chain_genesis
from trio_websocket import WebSocketConnection, open_websocket_url

from wattchain.cli.node_cmd import init_home
from wattchain.client import AsyncRpcClient, Keyring, RpcCallError
from wattchain.crypto import PrivateKey
from wattchain.genesis import Genesis
from wattchain.node.chain import Chain, CommittedBlock
from wattchain.node.config import Home, NodeConfig
from wattchain.node.mempool import MempoolLimits
from wattchain.node.node import Node
from wattchain.types import (
    VOTE_PRECOMMIT,
    Block,
    Commit,
    CommitSig,
    SignedTx,
    Vote,
)

# Long enough that the producer task makes no block during a test: tests call
# ``node.produce_block()`` themselves, so heights are predictable.
MANUAL_MS = 3_600_000
WAIT_S = 10.0  # upper bound on any single wait for a node to answer or act

POOR = CAROL  # holds less than the minimum fee in ``make_genesis``


# -- a chain without a node (mempool, store) ------------------------------------


def make_genesis(*, chain_id: str = CHAIN_ID, params: dict[str, Any] | None = None,
                 balances: Sequence[tuple[PrivateKey, int]] = ()) -> Genesis:
    """``chain_helpers.make_genesis`` with alice 1e6, bob 1e6 and poor 5 (or ``balances``)."""
    accounts = [account_entry(holder, amount) for holder, amount in
                balances or ((ALICE, 1_000_000), (BOB, 1_000_000), (POOR, 5))]
    return chain_genesis(accounts, chain_id=chain_id, params=params)


def open_chain(db_path: Path, genesis: Genesis | None = None,
               limits: MempoolLimits | None = None) -> Chain:
    return Chain(db_path, genesis or make_genesis(), limits)


# -- a devnet home and a running node ---------------------------------------------


@dataclass
class Devnet:
    home: Home
    faucet: PrivateKey
    chain_id: str

    def transfer(self, nonce: int, recipient: bytes, amount: int, **options: Any) -> SignedTx:
        return transfer(self.faucet, nonce, recipient, amount, chain_id=self.chain_id,
                        **options)


def make_devnet(root: Path, configure: Callable[[NodeConfig], None] | None = None, *,
                block_ms: int | None = None, chain_id: str = CHAIN_ID) -> Devnet:
    """``init_home`` into ``root`` with RPC port 0.

    With ``block_ms`` None the producer task makes no block by itself (the test
    calls ``node.produce_block()``); otherwise it makes one ``block_ms`` after
    a tx arrives, and no empty heartbeat blocks. ``configure`` may change the
    config further before it is saved.
    """
    init_home(root, chain_id, "node0", 0, force=False)
    home = Home(root)
    config = home.load_config()
    config.rpc.port = 0
    config.producer.min_block_interval_ms = MANUAL_MS if block_ms is None else block_ms
    config.producer.empty_block_interval_ms = MANUAL_MS
    if configure is not None:
        configure(config)
    home.save_config(config)
    faucet = Keyring(home.keyring_dir, backend="test").get("faucet")
    return Devnet(home, faucet, chain_id)


@asynccontextmanager
async def running_node(devnet: Devnet) -> AsyncIterator[Node]:
    """A started node (RPC listening); cancelled, and its database closed, on exit."""
    async with trio.open_nursery() as nursery:
        node = Node(devnet.home)
        with trio.fail_after(WAIT_S):
            await nursery.start(node.run)
        try:
            yield node
        finally:
            nursery.cancel_scope.cancel()


def websocket_url(node: Node) -> str:
    url: str = node.rpc_urls[0]
    return url.replace("http://", "ws://", 1) + "/websocket"


# -- JSON-RPC client -------------------------------------------------------------


RpcFailure = RpcCallError  # an error answer; ``rpc_code`` is the node's JSON-RPC code


def check_sane(response: httpx.Response) -> None:
    """What no answer of the node may ever be."""
    assert response.status_code != 500, response.text
    assert "Traceback" not in response.text, response.text


class RpcClient(AsyncRpcClient):
    """The client library's async client; every wait is bounded and every answer
    checked for what a node must never send. ``post`` and ``get`` send raw bodies."""

    async def post(self, body: Any = None, *, content: bytes | str | None = None,
                   headers: dict[str, str] | None = None) -> httpx.Response:
        with trio.fail_after(WAIT_S):
            if content is not None:
                response = await self.http.post(self.url, content=content, headers=headers)
            else:
                response = await self.http.post(self.url, json=body, headers=headers)
        check_sane(response)
        return response

    async def get(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        with trio.fail_after(WAIT_S):
            response = await self.http.get(self.url + path, params=params)
        check_sane(response)
        return response

    async def send(self, body: Any) -> httpx.Response:
        response = await self.post(body)
        assert response.status_code == 200, response.text
        return response

    async def request(self, method: str, **params: Any) -> dict[str, Any]:
        answer = await super().request(method, **params)
        assert answer["jsonrpc"] == "2.0"
        assert answer["id"] == self.next_id
        return answer

    async def error(self, method: str, **params: Any) -> dict[str, Any]:
        """The error object of a call that must fail."""
        answer = await self.request(method, **params)
        assert "error" in answer, answer
        assert "result" not in answer
        error: dict[str, Any] = answer["error"]
        return error


@asynccontextmanager
async def rpc_client(node: Node) -> AsyncIterator[RpcClient]:
    async with httpx.AsyncClient(timeout=WAIT_S) as client:
        yield RpcClient(node.rpc_urls[0], client)


def commit_block(chain: Chain, proposer: PrivateKey = VALIDATOR) -> CommittedBlock:
    """Propose the next block from ``chain``'s mempool, sign it, execute and persist it."""
    height = chain.height + 1
    time_ms = chain.tip.time_ms + 1_000
    block = chain.propose_block(height, time_ms, proposer.address,
                                chain.store.commit(chain.height))
    return chain.finalize_and_commit(block, sign_commit(chain, block, proposer))


def sign_commit(chain: Chain, block: Block, signer: PrivateKey = VALIDATOR) -> Commit:
    header = block.header
    block_hash = block.hash()
    vote = Vote(VOTE_PRECOMMIT, header.height, 0, block_hash, header.time_ms, signer.address)
    signature = signer.sign_digest(vote.sign_digest(chain.chain_id))
    return Commit(header.height, 0, block_hash,
                  [CommitSig(signer.address, header.time_ms, signature)])


# -- websocket client ----------------------------------------------------------------


class WebsocketClient:
    """JSON-RPC over one websocket; every wait is bounded."""

    def __init__(self, connection: WebSocketConnection) -> None:
        self.connection = connection
        self.next_id = 1000

    async def send(self, message: Any) -> None:
        text = message if isinstance(message, str) else json.dumps(message)
        await self.connection.send_message(text)

    async def receive(self) -> Any:
        """The next message: an answer, a batch of answers, or an event."""
        with trio.fail_after(WAIT_S):
            text = await self.connection.get_message()
        assert isinstance(text, str)
        assert "Traceback" not in text
        return json.loads(text)

    async def request(self, method: str, **params: Any) -> dict[str, Any]:
        """Send a call and return its answer (nothing else may arrive meanwhile)."""
        self.next_id += 1
        await self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method,
                         "params": params})
        answer: dict[str, Any] = await self.receive()
        assert answer["id"] == self.next_id, answer
        return answer


@asynccontextmanager
async def websocket_client(node: Node) -> AsyncIterator[WebsocketClient]:
    async with open_websocket_url(websocket_url(node), connect_timeout=WAIT_S,
                                  disconnect_timeout=WAIT_S) as connection:
        yield WebsocketClient(connection)
