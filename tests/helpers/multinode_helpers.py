"""Several nodes in one trio run, joined by an in-memory network with faults."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import trio

from wattchain.cli.testnet_layout import TestnetNode, init_testnet
from wattchain.client import Keyring
from wattchain.crypto import PrivateKey
from wattchain.node.network import NetworkService
from wattchain.node.node import Node
from wattchain.node.p2p.memory import MemoryNetwork

CHAIN_ID = "wattchain-memnet"


def fake_peer_id(secret: bytes) -> str:
    return "peer-" + secret[:6].hex()


@dataclass
class Cluster:
    layout: list[TestnetNode]
    network: MemoryNetwork
    nursery: trio.Nursery
    nodes: dict[str, Node]
    scopes: dict[str, trio.CancelScope]
    faucet: PrivateKey

    async def start(self, name: str) -> Node:
        spec = next(n for n in self.layout if n.name == name)
        config = spec.home.load_config()
        config.rpc.port = 0
        config.producer.min_block_interval_ms = 50
        config.producer.empty_block_interval_ms = 400
        config.consensus.timeout_propose_ms = 800
        config.consensus.timeout_prevote_ms = 300
        config.consensus.timeout_precommit_ms = 300
        peers = [address.rsplit("/", 1)[1] for address in config.p2p.persistent_peers]
        transport = self.network.transport(spec.peer_id, peers)
        node = Node(spec.home, config, transport=transport)
        scope = trio.CancelScope()

        async def run(task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
            with scope:
                await node.run(task_status=task_status)

        await self.nursery.start(run)
        self.nodes[name], self.scopes[name] = node, scope
        return node

    async def stop(self, name: str) -> None:
        self.scopes.pop(name).cancel()
        self.nodes.pop(name)
        await trio.sleep(0.05)

    def network_of(self, name: str) -> NetworkService:
        """The network service of a running node (every cluster node has one)."""
        network = self.nodes[name].network
        assert network is not None
        return network

    def peer_id(self, name: str) -> str:
        return next(n.peer_id for n in self.layout if n.name == name)

    async def wait_for_height(self, height: int, names: list[str] | None = None,
                              timeout_s: float = 30.0) -> None:
        with trio.fail_after(timeout_s):
            while any(self.nodes[n].chain.height < height for n in (names or self.nodes)):  # noqa: ASYNC110
                await trio.sleep(0.02)

    def assert_agreement(self, names: list[str] | None = None) -> int:
        """Every pair of nodes holds the same block and app hash at every shared height."""
        chosen = [self.nodes[n] for n in (names or self.nodes)]
        top = min(node.chain.height for node in chosen)
        for height in range(1, top + 1):
            hashes = {node.chain.store.block_bytes(height) for node in chosen}
            assert len(hashes) == 1, f"nodes disagree at height {height}"
            app_hashes = {node.chain.store.app_hash(height) for node in chosen}
            assert len(app_hashes) == 1, f"app hashes differ at height {height}"
        return top


@asynccontextmanager
async def cluster(root: Path, validators: int = 4, observers: int = 0,
                  seed: int = 1, start: bool = True) -> AsyncIterator[Cluster]:
    layout = init_testnet(root, validators, chain_id=CHAIN_ID, observers=observers,
                          peer_id_of=fake_peer_id)
    faucet = Keyring(layout[0].home.keyring_dir, backend="test").get("faucet")
    network = MemoryNetwork(seed=seed)
    async with trio.open_nursery() as nursery:
        group = Cluster(layout, network, nursery, {}, {}, faucet)
        if start:
            for spec in layout:
                if spec.validator:
                    await group.start(spec.name)
        try:
            yield group
        finally:
            nursery.cancel_scope.cancel()
