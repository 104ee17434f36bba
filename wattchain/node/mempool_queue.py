"""One sender's pending transactions, by nonce (the mempool's per-sender queue)."""

from __future__ import annotations

from wattchain.types import SignedTx


class SenderQueue:
    """The pending txs of one sender, keyed by nonce, all at or above ``nonce``.

    ``nonce`` is the account nonce as of the last block. The *run* is the
    pending nonces ``nonce .. run_end - 1`` without a hole: they can execute
    now, in order. Pending txs above ``run_end`` are stuck behind the gap at
    ``run_end``. ``top`` is the highest pending nonce (``nonce - 1`` when none).
    ``gap_since`` is the height at which the current gap opened (None: no gap);
    ``entry`` numbers the queue's current entry in the pool's eviction heap.
    """

    __slots__ = ("nonce", "txs", "run_end", "top", "gap_since", "entry")

    def __init__(self, account_nonce: int) -> None:
        self.nonce = account_nonce
        self.txs: dict[int, SignedTx] = {}
        self.run_end = account_nonce
        self.top = account_nonce - 1
        self.gap_since: int | None = None
        self.entry = 0

    def queued_ahead(self) -> int:
        """Pending txs whose nonce is above the account nonce."""
        return len(self.txs) - (self.run_end > self.nonce)

    def add(self, stx: SignedTx) -> None:
        nonce = stx.tx.nonce
        self.txs[nonce] = stx
        if nonce > self.top:
            self.top = nonce
        if nonce == self.run_end:
            self._extend_run()

    def remove(self, nonce: int) -> None:
        """Drop the tx at ``nonce``; the pending txs above it in the run get stuck."""
        del self.txs[nonce]
        if nonce < self.run_end:
            self.run_end = nonce
        if nonce == self.top:
            self.top = max(self.txs, default=self.nonce - 1)

    def advance_to(self, account_nonce: int) -> None:
        """The account nonce is now ``account_nonce``; every pending tx below it
        must already be removed."""
        self.nonce = account_nonce
        self.run_end = max(self.run_end, account_nonce)
        if self.top < account_nonce:
            self.top = account_nonce - 1
        self._extend_run()

    def _extend_run(self) -> None:
        while self.run_end in self.txs:
            self.run_end += 1
