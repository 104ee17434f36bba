"""Lay out a local multi-validator testnet: one home per node, one genesis.

    DIR/node0 ... DIR/node{N-1}   validators, named like utilities and DSOs
    DIR/observer0 ...             optional full nodes that never vote

Node i listens for p2p on ``base_p2p_port + 10 i`` and for RPC on
``base_rpc_port + 10 i``, on 127.0.0.1. Every validator lists every other
as a persistent peer (a full mesh); observers peer with every validator.
Each keyring holds the devnet ``faucet`` test key (admin + issuer).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from wattchain.client import Keyring
from wattchain.crypto import PrivateKey, format_address
from wattchain.genesis import Genesis, save_genesis
from wattchain.genesis.presets import devnet_genesis
from wattchain.node.config import FAUCET_QUEUE_LIMIT, Home, NodeConfig, save_key_file

OPERATORS = [
    "northgrid-utility", "riverside-dso", "harbor-power", "valley-dso", "sunfield-energy",
    "lakeside-utility", "metro-dso", "windward-power", "hillcrest-dso", "coastal-utility",
]


@dataclass(frozen=True)
class TestnetNode:
    __test__ = False  # not a pytest test class

    name: str
    home: Home
    p2p_port: int
    rpc_port: int
    peer_id: str
    validator: bool


def node_names(validators: int, observers: int) -> list[str]:
    return [f"node{i}" for i in range(validators)] + [f"observer{i}" for i in range(observers)]


def init_testnet(directory: Path, validators: int, *, chain_id: str = "wattchain-testnet",
                 observers: int = 0, base_p2p_port: int = 26656, base_rpc_port: int = 26657,
                 force: bool = False, peer_id_of: object = None,
                 extra_accounts: list[tuple[bytes, int]] | None = None,
                 configure_genesis: Callable[[Genesis], None] | None = None
                 ) -> list[TestnetNode]:
    """Write every node's config, keys and the shared genesis; return the nodes.

    ``configure_genesis`` may change the genesis (params, accounts, module
    sections) before it is written."""
    if not 1 <= validators <= 100:
        raise ValueError("--validators must be between 1 and 100")
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        if not force:
            raise FileExistsError(f"{directory} is not empty (use --force to replace it)")
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if peer_id_of is None:
        from wattchain.node.p2p.libp2p_transport import peer_id_of as libp2p_peer_id
        peer_id_of = libp2p_peer_id
    names = node_names(validators, observers)
    validator_keys = [PrivateKey.generate() for _ in range(validators)]
    node_keys = [PrivateKey.generate() for _ in names]
    faucet = PrivateKey.generate()
    nodes = [
        TestnetNode(name, Home(directory / name), base_p2p_port + 10 * i, base_rpc_port + 10 * i,
                    peer_id_of(node_keys[i].secret), i < validators)  # type: ignore[operator]
        for i, name in enumerate(names)
    ]
    genesis = devnet_genesis(
        chain_id,
        [(OPERATORS[i % len(OPERATORS)] + ("" if i < len(OPERATORS) else f"-{i}"),
          key.public_key, 10) for i, key in enumerate(validator_keys)],
        faucet.address)
    genesis.app_state["accounts"]["accounts"].extend(
        {"address": format_address(address), "balance": balance, "nonce": 0, "roles": []}
        for address, balance in extra_accounts or [])
    if configure_genesis is not None:
        configure_genesis(genesis)
    for index, node in enumerate(nodes):
        config = NodeConfig(moniker=node.name, mode="validator" if node.validator else "observer")
        config.rpc.port = node.rpc_port
        config.mempool.sender_limits = {format_address(faucet.address): FAUCET_QUEUE_LIMIT}
        config.p2p.enabled = True
        config.p2p.port = node.p2p_port
        config.p2p.persistent_peers = [
            f"/ip4/127.0.0.1/tcp/{peer.p2p_port}/p2p/{peer.peer_id}"
            for peer in nodes if peer is not node and peer.validator]
        node.home.save_config(config)
        save_genesis(genesis, node.home.genesis_file)
        own_key = validator_keys[index] if node.validator else PrivateKey.generate()
        save_key_file(node.home.validator_key_file, own_key)
        save_key_file(node.home.node_key_file, node_keys[index])
        Keyring(node.home.keyring_dir, backend="test").import_key("faucet", faucet.secret)
    return nodes
