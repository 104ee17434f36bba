"""The demo's session with a running testnet: what it keeps between runs
(``DemoState``), what it saw happen (``Tally``), and how it signs, sends and
awaits the community's transactions (``TxSender``).

``TxSender`` keeps one nonce counter per key (read from the chain the first
time a key signs), spreads JSON-RPC batches of ``BATCH`` txs over the
validators, and either returns what the mempools took (``broadcast``, the
per-interval path) or waits until every tx is in a block and raises
``DemoError`` if one was refused or failed (``commit``, the setup path).
"""

from __future__ import annotations

import base64
import json
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wattchain.client import RpcCallError, RpcClient
from wattchain.crypto import PrivateKey, format_address
from wattchain.sim.community import Member
from wattchain.types import SignedTx, Tx, sign_tx

BATCH = 100  # txs per JSON-RPC batch
# What the tally counts over a whole run, under the names the snapshot shows them by.
COUNTED = ("bills_verified", "bills_mismatched", "certificates", "emergencies_declared",
           "emergencies_cleared")


class DemoError(Exception):
    """The community could not be set up (a tx refused, failed or not committed)."""


@dataclass
class DemoState:
    """Kept in ``<dir>/demo.json``: what a resumed demo needs beyond the chain."""

    seed: int
    households: int
    interval_ms: int
    t0_ms: int = 0  # start of interval 0 (slot 0 of the profiles)
    setup_done: bool = False

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.__dict__, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> DemoState | None:
        if not path.exists():
            return None
        return cls(**json.loads(path.read_text()))

    def slot(self, interval_start: int) -> int:
        """The index of the interval starting at ``interval_start`` since ``t0_ms``
        (also the slot of the profiles it plays)."""
        return (interval_start - self.t0_ms) // self.interval_ms


@dataclass
class Tally:
    """What the demo saw happen, for the dashboard: the newest trades, dispatches and
    log lines, the txs since the last snapshot, and the ``COUNTED`` totals."""

    trades: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=8))
    dispatches: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=8))
    log: deque[str] = field(default_factory=lambda: deque(maxlen=6))
    txs: int = 0
    counts: Counter[str] = field(default_factory=Counter)


class TxSender:
    """Signs txs for community members and sends them to the validators."""

    def __init__(self, urls: list[str]) -> None:
        self.clients = [RpcClient(url, timeout=30.0) for url in urls]
        self.chain_id = ""
        self.fee = 10
        self.nonces: dict[bytes, int] = {}
        self.refusal = ""  # the log of the newest tx a mempool refused
        self._next_client = 0

    @property
    def client(self) -> RpcClient:
        """The node that answers queries (node0)."""
        return self.clients[0]

    def connect(self) -> int:
        """Learn the chain id and minimum fee; return the newest block height."""
        status = self.client.call("status")
        self.chain_id = status["node_info"]["network"]
        self.fee = int(self.client.query("chain/params")["min_fee"])
        return int(status["sync_info"]["latest_block_height"])

    def nonce(self, key: PrivateKey) -> int:
        """The next nonce of ``key``'s account (counted locally after the first read)."""
        if key.address not in self.nonces:
            account = self.client.query("accounts/account",
                                        address=format_address(key.address))
            self.nonces[key.address] = int(account["nonce"])
        value = self.nonces[key.address]
        self.nonces[key.address] = value + 1
        return value

    def tx(self, member: Member, module: str, method: str, *args: Any) -> SignedTx:
        """A tx of ``member`` calling ``module.method(*args)``, signed with its key."""
        return sign_tx(Tx(self.chain_id, member.key.address, self.nonce(member.key), self.fee,
                          module, method, list(args)), member.key)

    def exists(self, path: str, **data: Any) -> bool:
        """Whether a query finds its record (a zone, producer profile, meter)."""
        try:
            self.client.query(path, **data)
            return True
        except RpcCallError:
            return False

    def chain_time_ms(self) -> int:
        """The time of the newest block."""
        status = self.client.call("status")
        return int(status["sync_info"]["latest_block_time_ms"])

    def next_boundary(self, interval_ms: int, ahead: int = 1) -> int:
        """An interval start ``ahead`` intervals after now (block time follows the
        validators' clocks; after a restart the newest block may be old)."""
        now = max(self.chain_time_ms(), int(time.time() * 1000))
        return (now // interval_ms + ahead) * interval_ms

    def broadcast(self, stxs: list[SignedTx]) -> list[SignedTx]:
        """Send in batches over the validators; return the txs the mempools took."""
        accepted = []
        for offset in range(0, len(stxs), BATCH):
            chunk = stxs[offset:offset + BATCH]
            client = self.clients[self._next_client % len(self.clients)]
            self._next_client += 1
            answers = client.call_batch_answers([("broadcast_tx_sync",
                                                  {"tx": base64.b64encode(s.raw).decode()})
                                                 for s in chunk])
            for stx, answer in zip(chunk, answers, strict=True):
                result = answer.get("result") if isinstance(answer, dict) else None
                if result is not None and result.get("code") == 0:
                    accepted.append(stx)
                else:  # refused: its nonce is free again (later txs of the sender fail)
                    self.nonces.pop(stx.tx.sender, None)
                    self.refusal = str(result.get("log") if result is not None else answer)
        return accepted

    def commit(self, stxs: list[SignedTx], what: str, timeout_s: float = 60.0
               ) -> list[dict[str, Any]]:
        """Broadcast and wait until every tx is in a block; raise ``DemoError`` if one
        was refused, failed, or is not in a block after ``timeout_s``."""
        accepted = self.broadcast(stxs)
        if len(accepted) != len(stxs):
            raise DemoError(f"{what}: the nodes refused {len(stxs) - len(accepted)} txs, "
                            f"e.g.: {self.refusal}")
        results = self.await_results(accepted, what, timeout_s)
        ordered = [results[s.tx_id.hex()] for s in accepted]
        failed = [r for r in ordered if r["tx_result"]["code"] != 0]
        if failed:
            raise DemoError(f"{what}: {len(failed)} txs failed, e.g. "
                            f"{failed[0]['tx_result']['log']}")
        return ordered

    def await_results(self, accepted: list[SignedTx], what: str, timeout_s: float
                      ) -> dict[str, dict[str, Any]]:
        """tx id (hex) -> the node's ``tx`` answer, once every tx is in a block."""
        results: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + timeout_s
        while len(results) < len(accepted):
            if time.monotonic() > deadline:
                raise DemoError(f"{what}: {len(accepted) - len(results)} txs not committed "
                                f"in {timeout_s:.0f} s")
            time.sleep(0.3)
            waiting = [s for s in accepted if s.tx_id.hex() not in results]
            for offset in range(0, len(waiting), BATCH):
                chunk = waiting[offset:offset + BATCH]
                answers = self.client.call_batch_answers([("tx", {"hash": s.tx_id.hex()})
                                                          for s in chunk])
                for stx, answer in zip(chunk, answers, strict=True):
                    if isinstance(answer, dict) and "result" in answer:
                        results[stx.tx_id.hex()] = answer["result"]
        return results
