"""What a consensus simulation records, and the properties checked against it.

``find_violations`` returns the violated properties of a finished run:
agreement, validity, liveness (every honest node reaches the target height,
and heights started after GST decide within a bounded number of rounds),
evidence for every equivocation an honest node saw (and none against an
honest validator), and, recorded while running, no honest double signing and
WAL replays that return to the state lost.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from consensus_sim_config import SimConfig

from wattchain.consensus.messages import Proposal
from wattchain.consensus.validator_set import ProposerSchedule, ValidatorSet
from wattchain.crypto import PrivateKey
from wattchain.types import VOTE_PRECOMMIT, Vote

Slot = tuple[bytes, int, int, int]  # (validator, height, round, vote type)


@dataclass
class Records:
    """Facts of a run that no node could fake: which blocks are valid, who
    proposed what, what honest nodes signed, when each height started."""

    valid_blocks: set[bytes] = field(default_factory=set)
    proposed: dict[tuple[int, int], set[tuple[bytes, bytes]]] = field(default_factory=dict)
    honest_signed: dict[tuple[bytes, int, int, int], bytes] = field(default_factory=dict)
    height_started: dict[int, int] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    counters: Counter[str] = field(default_factory=Counter)  # restarts, syncs, refusals...
    done: int = 0  # honest nodes past the target height

    def new_block(self, height: int, round_: int, author: int, valid: bool = True) -> bytes:
        """The application's block: a hash that names its origin."""
        block = hashlib.sha256(f"block/{height}/{round_}/{author}/{valid}".encode()).digest()
        if valid:
            self.valid_blocks.add(block)
        return block

    def note_proposal(self, proposal: Proposal) -> None:
        self.proposed.setdefault((proposal.height, proposal.round), set()).add(
            (proposal.proposer, proposal.block_hash))

    def note_honest_signature(self, node_id: int, address: bytes, slot: tuple[int, int, int],
                              block_hash: bytes) -> None:
        if self.honest_signed.setdefault((address, *slot), block_hash) != block_hash:
            self.violations.append(f"double-sign: honest node {node_id} at {slot}")


class Signer(Protocol):
    def is_signed_by(self, address: bytes, message: Proposal | Vote) -> bool: ...


def commit_is_valid(height: int, record: tuple[int, bytes, tuple[Vote, ...]],
                    valid_blocks: set[bytes], signer: Signer,
                    validator_set: ValidatorSet) -> bool:
    """+2/3 of the power precommitted the (valid) block, with good signatures."""
    round_, block_hash, precommits = record
    if block_hash not in valid_blocks:
        return False
    power, seen = 0, set()
    for vote in precommits:
        if (vote.vote_type, vote.height, vote.round, vote.block_hash) != (
                VOTE_PRECOMMIT, height, round_, block_hash) or vote.validator in seen:
            return False
        if not signer.is_signed_by(vote.validator, vote):
            return False
        seen.add(vote.validator)
        power += validator_set.power_of(vote.validator)
    return validator_set.has_quorum(power)


class HonestView(Protocol):
    """What the checks read of an honest node."""

    id: int
    decided: dict[int, tuple[int, bytes, tuple[Vote, ...], bool]]
    seen_votes: dict[Slot, set[bytes]]
    evidence_slots: set[Slot]


@dataclass(frozen=True)
class Committee:
    """The validators of a run: keys by validator index, their set and proposer
    schedule, and which of them the config makes faulty."""

    config: SimConfig
    keys: list[PrivateKey]
    validator_set: ValidatorSet
    schedule: ProposerSchedule
    faulty_addresses: set[bytes]

    @property
    def honest_addresses(self) -> set[bytes]:
        return {key.address for key in self.keys} - self.faulty_addresses


def find_violations(committee: Committee, records: Records,
                    honest: Iterable[HonestView]) -> list[str]:
    honest = list(honest)
    violations = list(records.violations)
    target = committee.config.heights
    for height in range(1, target + 1):
        values = {node.decided[height][1] for node in honest if height in node.decided}
        if len(values) > 1:
            violations.append(f"agreement: height {height} has {len(values)} decisions")
    for node in honest:
        violations += _node_violations(committee, records, node)
    violations += _round_bound_violations(committee, records, honest)
    return violations


def _node_violations(committee: Committee, records: Records, node: HonestView) -> list[str]:
    violations = []
    for height, (round_, value, _, _) in node.decided.items():
        proposer = committee.schedule.proposer(height, round_)
        if (proposer, value) not in records.proposed.get((height, round_), set()) or (
                value not in records.valid_blocks):
            violations.append(f"validity: node {node.id} height {height}")
    missing = [h for h in range(1, committee.config.heights + 1) if h not in node.decided]
    if missing:
        violations.append(f"liveness: node {node.id} never decided height {missing[0]}")
    for slot, values in node.seen_votes.items():
        if len(values) > 1 and slot not in node.evidence_slots:
            violations.append(f"evidence: node {node.id} missed equivocation {slot}")
    for validator, _, _, _ in node.evidence_slots:
        if validator in committee.honest_addresses:
            violations.append(f"evidence: against honest validator by {node.id}")
    return violations


def _round_bound_violations(committee: Committee, records: Records,
                            honest: list[HonestView]) -> list[str]:
    """After GST a fresh height ends within one round per turn of a faulty
    proposer, plus a correct proposer's round, plus two rounds in which a
    correct proposer may still lack the latest valid value (it joined the
    height late). The suite's schedules never needed more than the faulty
    turns plus two."""
    bound = sum(committee.validator_set.power_of(committee.keys[i].address)
                for i in committee.config.faulty) + 3
    stable = committee.config.stable_ms
    violations = []
    for height, started in records.height_started.items():
        rounds = [node.decided[height][0] for node in honest if height in node.decided]
        if started >= stable and rounds and max(rounds) > bound:
            violations.append(f"liveness: height {height} took {max(rounds)} rounds")
    return violations
