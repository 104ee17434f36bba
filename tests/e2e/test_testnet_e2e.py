"""A 4-validator testnet of real processes on 127.0.0.1 (libp2p, LevelDB, RPC).

Bounded in time; every process is stopped at the end.
"""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from wattchain.cli.testnet_layout import TestnetNode, init_testnet
from wattchain.client import Keyring
from wattchain.crypto import PrivateKey
from wattchain.types import Tx, sign_tx

pytestmark = pytest.mark.slow  # every test here starts a process

CHAIN_ID = "wattchain-e2e"


def free_base_port(count: int) -> int:
    """A base port with base + 10 i and base + 10 i + 1 free for i < count."""
    for base in range(41000, 60000, 137):
        ports = [base + 10 * i + offset for i in range(count) for offset in (0, 1)]
        if all(_free(port) for port in ports):
            return base
    raise RuntimeError("no free port range")


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class ProcessTestnet:
    def __init__(self, nodes: list[TestnetNode]) -> None:
        self.nodes = {node.name: node for node in nodes}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.client = httpx.Client(timeout=5)

    def start(self, name: str) -> None:
        node = self.nodes[name]
        config = node.home.load_config()
        config.producer.min_block_interval_ms = 100
        config.producer.empty_block_interval_ms = 500
        config.consensus.timeout_propose_ms = 1_500
        node.home.save_config(config)
        log = open(node.home.root / "node.log", "ab")  # noqa: SIM115
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "wattchain.cli.main", "node", "start", "--home",
             str(node.home.root)], stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def kill(self, name: str) -> None:
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def stop_all(self) -> None:
        for process in self.processes.values():
            process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()
        self.client.close()

    def rpc(self, name: str, method: str, **params: object) -> dict:  # type: ignore[type-arg]
        url = f"http://127.0.0.1:{self.nodes[name].rpc_port}"
        answer = self.client.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                             "params": params}).json()
        assert "error" not in answer, answer
        return answer["result"]  # type: ignore[no-any-return]

    def height(self, name: str) -> int:
        try:
            return int(self.rpc(name, "status")["sync_info"]["latest_block_height"])
        except httpx.TransportError:
            return -1

    def wait_for_height(self, names: list[str], height: int, timeout_s: float) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            if all(self.height(name) >= height for name in names):
                return time.monotonic() - started
            time.sleep(0.1)
        heights = {name: self.height(name) for name in names}
        raise AssertionError(f"not at height {height} after {timeout_s}s: {heights}")

    def assert_same_chain(self, names: list[str]) -> int:
        top = min(self.height(name) for name in names)
        for height in range(1, top + 1):
            headers = {name: self.rpc(name, "block", height=height) for name in names}
            assert len({h["block_id"]["hash"] for h in headers.values()}) == 1, height
            apps = {self.rpc(name, "block_results", height=height)["app_hash"] for name in names}
            assert len(apps) == 1, height
        return top


@pytest.fixture
def testnet(tmp_path: Path) -> Iterator[ProcessTestnet]:
    base = free_base_port(5)
    nodes = init_testnet(tmp_path / "net", 4, chain_id=CHAIN_ID, observers=1,
                         base_p2p_port=base, base_rpc_port=base + 1)
    net = ProcessTestnet(nodes)
    try:
        yield net
    finally:
        net.stop_all()


def submit_transfers(net: ProcessTestnet, name: str, faucet: PrivateKey, nonce: int,
                     count: int) -> int:
    recipient = PrivateKey(b"\x44" * 32).address
    batch = [{"jsonrpc": "2.0", "id": i, "method": "broadcast_tx_sync", "params": {
        "tx": base64.b64encode(sign_tx(Tx(CHAIN_ID, faucet.address, nonce + i, 10, "accounts",
                                          "transfer", [recipient, 1]), faucet).raw).decode()}}
             for i in range(count)]
    url = f"http://127.0.0.1:{net.nodes[name].rpc_port}"
    answers = net.client.post(url, json=batch).json()
    assert all(a["result"]["code"] == 0 for a in answers), answers[:3]
    return nonce + count


def test_testnet_survives_crashes_and_an_observer_syncs(testnet: ProcessTestnet) -> None:
    validators = ["node0", "node1", "node2", "node3"]
    for name in validators:
        testnet.start(name)
    testnet.wait_for_height(validators, 2, timeout_s=60)
    faucet = Keyring(testnet.nodes["node0"].home.keyring_dir, backend="test").get("faucet")

    # under a transfer load, all four commit the same blocks
    nonce = submit_transfers(testnet, "node1", faucet, 0, 100)
    testnet.wait_for_height(validators, testnet.height("node0") + 2, timeout_s=30)
    recipient = "0x" + PrivateKey(b"\x44" * 32).address.hex()

    # kill -9 one validator: the other three go on
    testnet.kill("node3")
    top = testnet.height("node0")
    nonce = submit_transfers(testnet, "node0", faucet, nonce, 50)
    testnet.wait_for_height(validators[:3], top + 3, timeout_s=30)

    # restarted, it reaches the tip within 20 s
    testnet.start("node3")
    caught_up = testnet.wait_for_height(["node3"], testnet.height("node0"), timeout_s=20)
    assert caught_up < 20

    # two of four down: no more commits (safely), until one returns
    testnet.kill("node2")
    testnet.kill("node3")
    time.sleep(2.0)
    stalled = max(testnet.height("node0"), testnet.height("node1"))
    time.sleep(3.0)
    assert max(testnet.height("node0"), testnet.height("node1")) <= stalled + 1
    testnet.start("node2")
    testnet.wait_for_height(["node0", "node1", "node2"], stalled + 2, timeout_s=40)

    # an observer joins late and syncs from genesis; everyone agrees on every height
    testnet.start("observer0")
    testnet.wait_for_height(["observer0"], testnet.height("node0"), timeout_s=40)
    top = testnet.assert_same_chain(["node0", "node1", "node2", "observer0"])
    assert top >= 8
    balance = testnet.rpc("observer0", "abci_query", path="accounts/balance",
                          data={"address": recipient})["response"]["value"]["balance"]
    assert balance == 150
