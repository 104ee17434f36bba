"""How many txs a proposer reaps, so that a round stays within its timeouts.

The proposer measures how long executing and committing recent blocks took
per tx (an exponential moving average of wall-clock time, local to this
node) and caps its next block at what fits in ``budget_ms``: half of the
shorter of the propose and prevote timeouts, so a slow block never pushes a
round past them. Only the proposer's choice of how many txs to reap depends
on this measure; validating a proposal checks the genesis ``max_block_txs``
alone, so validators never disagree because their clocks or loads differ.

It also measures the chain's commit rate (txs per second between commits)
and sets the mempool's high-water mark for RPC admission at ``QUEUE_SECONDS``
of it, so an admitted tx waits about that long in the pool, not a queue of
minutes. A pool allowed to hold one second of the rate fills the next block;
blocks come faster than once a second while the chain keeps up, so the
measured rate (and the mark) grows with the offered load until the chain's
capacity is reached.
"""

from __future__ import annotations

MIN_BLOCK_TXS = 100  # never smaller: a block's fixed costs must stay amortised
QUEUE_SECONDS = 1.0  # the mempool's high-water mark, in seconds of the commit rate
MIN_HIGH_WATER = 1_000  # ... but never below this (an idle chain measures no rate)
WEIGHT = 0.3  # of the newest block in the moving averages


class BlockSizer:
    """The adaptive cap on a proposal's tx count."""

    def __init__(self, budget_ms: int) -> None:
        self.budget_s = budget_ms / 1000
        self.seconds_per_tx: float | None = None  # no block measured yet
        self.commit_rate = 0.0  # txs committed per second, moving average
        self.last_commit: float | None = None  # when the last block was committed

    def record(self, txs: int, seconds: float) -> None:
        """Count one executed and committed block of ``txs`` txs."""
        if txs < MIN_BLOCK_TXS // 2:
            return  # a tiny block measures its fixed costs, not its txs
        sample = seconds / txs
        known = self.seconds_per_tx
        self.seconds_per_tx = sample if known is None else known + WEIGHT * (sample - known)

    def record_commit(self, txs: int, now: float) -> None:
        """Count a block of ``txs`` txs committed at ``now`` (monotonic seconds)."""
        last, self.last_commit = self.last_commit, now
        if last is None or now <= last:
            return
        sample = txs / (now - last)
        self.commit_rate += WEIGHT * (sample - self.commit_rate)

    def cap(self, max_block_txs: int) -> int:
        """The most txs to reap now (at most the protocol's ``max_block_txs``)."""
        if self.seconds_per_tx is None or self.seconds_per_tx <= 0:
            return max_block_txs
        fits = int(self.budget_s / self.seconds_per_tx)
        return max(min(MIN_BLOCK_TXS, max_block_txs), min(fits, max_block_txs))

    def high_water(self, max_pool_txs: int) -> int:
        """The mempool size at which RPC refuses new txs as busy."""
        queue = max(MIN_HIGH_WATER, int(QUEUE_SECONDS * self.commit_rate))
        return min(max_pool_txs * 8 // 10, queue)
