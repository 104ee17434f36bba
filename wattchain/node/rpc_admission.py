"""Admission control for tx submission at the RPC edge.

A request that submits txs (``broadcast_tx_*``, alone or in a batch, over
HTTP or a websocket) is counted from its raw body, before it is parsed,
decoded or has a signature verified: ``body.count(b"broadcast_tx")``, one C
scan. It is refused as busy (SERVER_BUSY, with ``retry_after_ms``; over HTTP
a 503 with a ``Retry-After`` header) when

- the mempool holds ``high_water`` txs or more (the chain sets the mark to a
  few blocks' worth, so an admitted tx waits seconds, not minutes), or
- the client already has ``max_inflight_txs_per_client`` txs in flight
  (being checked, or waited on by ``broadcast_tx_commit``), or
- all clients together have ``max_inflight_txs`` in flight.

A client (or the node) with nothing in flight may always send one request
(a batch is at most ``max_batch``), so the budgets never lock a client out.

Refusing costs the node one count and one small reply, so an overloaded
node spends its cores on the txs it has admitted.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from wattchain.node.rpc_errors import SERVER_BUSY, RpcError

TX_MARK = b"broadcast_tx"


class PoolGauge(Protocol):
    """How full the mempool is (``ports.MempoolReader`` has these)."""

    high_water: int

    def __len__(self) -> int: ...


class Busy(RpcError):
    """A refusal that tells the client when to come back."""

    def __init__(self, reason: str, retry_after_ms: int) -> None:
        super().__init__(SERVER_BUSY, "Server busy",
                         {"reason": reason, "retry_after_ms": retry_after_ms})
        self.retry_after_ms = retry_after_ms

    def retry_after_header(self) -> str:
        """The HTTP Retry-After value: whole seconds, at least 1."""
        return str(max(1, math.ceil(self.retry_after_ms / 1000)))


class TxAdmission:
    """Bounded in-flight tx submissions, per client and in total."""

    def __init__(self, pool: PoolGauge, per_client: int, total: int,
                 retry_after_ms: int) -> None:
        self.pool = pool
        self.per_client = per_client
        self.total = total
        self.retry_after_ms = retry_after_ms
        self.inflight: dict[str, int] = {}
        self.inflight_total = 0

    def check(self, client: str, count: int) -> None:
        """Raise Busy unless ``client`` may submit ``count`` more txs now."""
        if len(self.pool) >= self.pool.high_water:
            raise Busy("the mempool is at its high-water mark", self.retry_after_ms)
        mine = self.inflight.get(client, 0)
        if mine and mine + count > self.per_client:
            raise Busy("this client's txs in flight are at their limit", self.retry_after_ms)
        if self.inflight_total and self.inflight_total + count > self.total:
            raise Busy("the node's txs in flight are at their limit", self.retry_after_ms)

    @contextmanager
    def admitted(self, client: str, body: bytes | str) -> Iterator[None]:
        """Hold ``body``'s txs as in flight for ``client`` while the block runs;
        raise Busy (before the block) when they may not be admitted."""
        marks = body.count(TX_MARK) if isinstance(body, bytes) else body.count("broadcast_tx")
        if not marks:
            yield
            return
        self.check(client, marks)
        self.inflight[client] = self.inflight.get(client, 0) + marks
        self.inflight_total += marks
        try:
            yield
        finally:
            self.inflight_total -= marks
            left = self.inflight[client] - marks
            if left:
                self.inflight[client] = left
            else:
                del self.inflight[client]
