"""How many txs a proposer reaps, so that a round stays within its timeouts.

The proposer measures how long executing and committing recent blocks took
per tx (an exponential moving average of wall-clock time, local to this
node) and caps its next block at what fits in ``budget_ms``: half of the
shorter of the propose and prevote timeouts, so a slow block never pushes a
round past them. Only the proposer's choice of how many txs to reap depends
on this measure; validating a proposal checks the genesis ``max_block_txs``
alone, so validators never disagree because their clocks or loads differ.

The same measure sets the mempool's high-water mark for RPC admission:
``QUEUE_BLOCKS`` blocks' worth, so an admitted tx waits a few blocks, not a
queue of minutes.
"""

from __future__ import annotations

MIN_BLOCK_TXS = 100  # never smaller: a block's fixed costs must stay amortised
QUEUE_BLOCKS = 4  # the mempool's high-water mark, in blocks of the current cap
WEIGHT = 0.3  # of the newest block in the moving average


class BlockSizer:
    """The adaptive cap on a proposal's tx count."""

    def __init__(self, budget_ms: int) -> None:
        self.budget_s = budget_ms / 1000
        self.seconds_per_tx: float | None = None  # no block measured yet

    def record(self, txs: int, seconds: float) -> None:
        """Count one executed and committed block of ``txs`` txs."""
        if txs < MIN_BLOCK_TXS // 2:
            return  # a tiny block measures its fixed costs, not its txs
        sample = seconds / txs
        known = self.seconds_per_tx
        self.seconds_per_tx = sample if known is None else known + WEIGHT * (sample - known)

    def cap(self, max_block_txs: int) -> int:
        """The most txs to reap now (at most the protocol's ``max_block_txs``)."""
        if self.seconds_per_tx is None or self.seconds_per_tx <= 0:
            return max_block_txs
        fits = int(self.budget_s / self.seconds_per_tx)
        return max(min(MIN_BLOCK_TXS, max_block_txs), min(fits, max_block_txs))

    def high_water(self, max_block_txs: int, max_pool_txs: int) -> int:
        """The mempool size at which RPC refuses new txs as busy."""
        return min(max_pool_txs * 8 // 10, QUEUE_BLOCKS * self.cap(max_block_txs))
