"""Checking a commit: +2/3 of a validator set's power precommitted one block."""

from __future__ import annotations

from wattchain.consensus.messages import InvalidMessage, vote_signer
from wattchain.consensus.validator_set import ValidatorSet
from wattchain.types import Commit, CommitSig, Vote


def verify_commit(commit: Commit, validator_set: ValidatorSet, chain_id: str, height: int,
                  block_hash: bytes) -> None:
    """Raise InvalidMessage unless ``commit`` finalises ``block_hash`` at ``height``
    with valid precommit signatures holding more than 2/3 of the set's power."""
    if commit.height != height or commit.block_hash != block_hash:
        raise InvalidMessage(f"commit is for another block than height {height}")
    seen: set[bytes] = set()
    power = 0
    for sig in commit.signatures:
        validator = validator_set.by_address.get(sig.validator)
        if validator is None:
            raise InvalidMessage("commit signature from outside the validator set")
        if sig.validator in seen:
            raise InvalidMessage("commit has two signatures of one validator")
        seen.add(sig.validator)
        if vote_signer(commit.vote_of(sig), chain_id) != validator.public_key:
            raise InvalidMessage("commit signature does not match its validator")
        power += validator.power
    if not validator_set.has_quorum(power):
        raise InvalidMessage(f"commit holds {power} of {validator_set.total_power} power, "
                             "not more than 2/3")


def commit_from_precommits(height: int, round_: int, block_hash: bytes,
                           precommits: tuple[Vote, ...] | list[Vote]) -> Commit:
    """The commit of a decision, its signatures ordered by validator address."""
    signatures = sorted((CommitSig(v.validator, v.timestamp_ms, v.signature)
                         for v in precommits if v.block_hash == block_hash),
                        key=lambda s: s.validator)
    return Commit(height, round_, block_hash, signatures)
