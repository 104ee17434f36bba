"""kill -9 during a stream of transfers: nothing committed is lost or changed."""

from __future__ import annotations

import base64
import threading
import time
from pathlib import Path

import httpx
from process_helpers import NodeProcess, make_home

from wattchain.cli.keyring import Keyring
from wattchain.crypto import PrivateKey
from wattchain.types import Tx, sign_tx


def rpc(url: str, method: str, **params: object) -> dict:  # type: ignore[type-arg]
    answer = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                   "params": params}, timeout=10).json()
    assert "error" not in answer, answer
    return answer["result"]  # type: ignore[no-any-return]


def stream_transfers(url: str, faucet: PrivateKey, stop: threading.Event,
                     committed: list[str]) -> None:
    """Submit batches of transfers; record the hashes the node reported committed."""
    recipient = PrivateKey(bytes([7]) * 32).address
    nonce = 0
    with httpx.Client(timeout=5) as client:
        while not stop.is_set():
            batch = []
            for _ in range(50):
                tx = Tx("wattchain-test", faucet.address, nonce, 10, "accounts", "transfer",
                        [recipient, 1])
                nonce += 1
                raw = sign_tx(tx, faucet).raw
                batch.append({"jsonrpc": "2.0", "id": nonce, "method": "broadcast_tx_sync",
                              "params": {"tx": base64.b64encode(raw).decode()}})
            try:
                client.post(url, json=batch)
                last = batch[-1]["params"]["tx"]  # type: ignore[index]
                answer = client.post(url, json={"jsonrpc": "2.0", "id": 0,
                                                "method": "broadcast_tx_commit",
                                                "params": {"tx": last}}).json()
            except httpx.TransportError:
                return  # the node is gone
            if "result" in answer and answer["result"].get("height"):
                committed.extend(item["params"]["tx"] for item in batch)  # type: ignore[index]


def test_kill_9_keeps_every_committed_tx(tmp_path: Path) -> None:
    home, url = make_home(tmp_path / "home", min_block_ms=50)
    faucet = Keyring(home / "keyring", backend="test").get("faucet")
    node = NodeProcess(home, url)
    node.start()
    stop = threading.Event()
    committed: list[str] = []
    worker = threading.Thread(target=stream_transfers, args=(url, faucet, stop, committed))
    try:
        worker.start()
        deadline = time.monotonic() + 30
        while len(committed) < 500 and time.monotonic() < deadline:
            time.sleep(0.05)
        before = rpc(url, "status")["sync_info"]
        heights = range(1, before["latest_block_height"] + 1)
        hashes = {h: rpc(url, "block", height=h)["block_id"]["hash"] for h in heights}
        confirmed = list(committed)
        node.kill()  # mid-stream: the worker is still submitting
        stop.set()
        worker.join(10)
        assert len(confirmed) >= 500

        node.start()
        after = rpc(url, "status")["sync_info"]
        assert after["latest_block_height"] >= before["latest_block_height"]
        for height, block_hash in hashes.items():
            assert rpc(url, "block", height=height)["block_id"]["hash"] == block_hash
        results = rpc(url, "block_results", height=before["latest_block_height"])
        assert results["app_hash"] == before["latest_app_hash"]
        for raw_b64 in confirmed[::25]:
            import hashlib

            tx_hash = hashlib.sha256(base64.b64decode(raw_b64)).hexdigest()
            assert rpc(url, "tx", hash=tx_hash)["tx_result"]["code"] == 0
        supply = rpc(url, "abci_query", path="accounts/supply")["response"]["value"]
        recipient = "0x" + PrivateKey(bytes([7]) * 32).address.hex()
        held = rpc(url, "abci_query", path="accounts/balance",
                   data={"address": recipient})["response"]["value"]["balance"]
        assert held >= len(confirmed)
        assert supply["fee_pool"] >= 10 * len(confirmed)
        # and the chain goes on after the restart
        nonce = rpc(url, "abci_query", path="accounts/account",
                    data={"address": "0x" + faucet.address.hex()})["response"]["value"]["nonce"]
        tx = sign_tx(Tx("wattchain-test", faucet.address, nonce, 10, "accounts", "transfer",
                        [faucet.address, 1]), faucet)
        done = rpc(url, "broadcast_tx_commit", tx=base64.b64encode(tx.raw).decode())
        assert done["tx_result"]["code"] == 0
    finally:
        stop.set()
        node.stop()
        worker.join(10)
