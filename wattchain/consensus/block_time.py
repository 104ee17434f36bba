"""BFT time: a block's time is the power-weighted median of the timestamps in
the commit of the previous block, so no faulty minority can move it, and it
is monotonic because each honest vote carries a time after its last block."""

from __future__ import annotations

from wattchain.consensus.validator_set import ValidatorSet, weighted_median
from wattchain.types import Commit


def commit_time_ms(commit: Commit, validator_set: ValidatorSet) -> int:
    """The weighted median of the commit's timestamps (signers of the set only)."""
    pairs = [(sig.timestamp_ms, validator_set.power_of(sig.validator))
             for sig in commit.signatures if validator_set.power_of(sig.validator) > 0]
    if not pairs:
        raise ValueError("the commit carries no signature of the validator set")
    return weighted_median(pairs, sum(power for _, power in pairs))


def block_time_ms(last_commit: Commit | None, validator_set: ValidatorSet,
                  genesis_time_ms: int, previous_time_ms: int) -> int:
    """The time a block at the next height must carry."""
    if last_commit is None:
        return genesis_time_ms + 1
    return max(commit_time_ms(last_commit, validator_set), previous_time_ms + 1)
