"""Counts votes of one height by round, type and value; detects equivocation.

The keeper only counts power: it knows no rule of the state machine. The
driver asks it which thresholds of Algorithm 1 hold (a polka for a value, a
polka for nil, a polka of any kind, precommits of any kind, precommits for a
value, a round to skip to) and turns them into state-machine inputs. Each vote
must already have passed signature verification.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from wattchain.consensus.messages import NIL, Evidence, InvalidMessage
from wattchain.consensus.validator_set import ValidatorSet
from wattchain.types import VOTE_PRECOMMIT, VOTE_PREVOTE, Vote


class AddOutcome(Enum):
    ADDED = "added"
    DUPLICATE = "duplicate"
    EQUIVOCATION = "equivocation"


@dataclass(slots=True)
class VoteCount:
    """Votes of one (round, type). A validator's power counts once in ``power``
    (for "+2/3 of any") and once for each value it voted for: Algorithm 1 counts
    messages per value, so an equivocator's later vote still counts for its own
    value. Otherwise a polka one correct process saw through that vote could stay
    invisible to the others forever, and a lock on it would never be matched."""

    votes: dict[bytes, Vote] = field(default_factory=dict)  # first vote per validator
    conflicting: dict[tuple[bytes, bytes], Vote] = field(default_factory=dict)
    power_by_value: dict[bytes, int] = field(default_factory=dict)
    power: int = 0

    def add(self, vote: Vote, power: int) -> None:
        self.votes[vote.validator] = vote
        self.power_by_value[vote.block_hash] = self.power_by_value.get(vote.block_hash, 0) + power
        self.power += power

    def add_conflicting(self, vote: Vote, power: int) -> None:
        self.conflicting[(vote.validator, vote.block_hash)] = vote
        self.power_by_value[vote.block_hash] = self.power_by_value.get(vote.block_hash, 0) + power


@dataclass(slots=True)
class RoundVotes:
    prevotes: VoteCount = field(default_factory=VoteCount)
    precommits: VoteCount = field(default_factory=VoteCount)
    voters: set[bytes] = field(default_factory=set)  # anyone who voted in this round
    voter_power: int = 0

    def count(self, vote_type: int) -> VoteCount:
        return self.prevotes if vote_type == VOTE_PREVOTE else self.precommits


class VoteKeeper:
    def __init__(self, height: int, validator_set: ValidatorSet) -> None:
        self.height = height
        self.validator_set = validator_set
        self.rounds: dict[int, RoundVotes] = {}
        self.evidence: list[Evidence] = []

    def add(self, vote: Vote) -> AddOutcome:
        """Count ``vote``. Raises InvalidMessage for a wrong height or a stranger."""
        if vote.height != self.height:
            raise InvalidMessage(f"vote for height {vote.height}, keeper is at {self.height}")
        if vote.vote_type not in (VOTE_PREVOTE, VOTE_PRECOMMIT):
            raise InvalidMessage("unknown vote type")
        power = self.validator_set.power_of(vote.validator)
        if power == 0:
            raise InvalidMessage("vote from an address outside the validator set")
        round_votes = self.rounds.setdefault(vote.round, RoundVotes())
        count = round_votes.count(vote.vote_type)
        existing = count.votes.get(vote.validator)
        if existing is not None:
            if existing.block_hash == vote.block_hash or (
                    vote.validator, vote.block_hash) in count.conflicting:
                return AddOutcome.DUPLICATE
            self.evidence.append(Evidence(existing, vote))
            count.add_conflicting(vote, power)
            return AddOutcome.EQUIVOCATION
        count.add(vote, power)
        if vote.validator not in round_votes.voters:
            round_votes.voters.add(vote.validator)
            round_votes.voter_power += power
        return AddOutcome.ADDED

    def _count(self, round_: int, vote_type: int) -> VoteCount | None:
        round_votes = self.rounds.get(round_)
        return None if round_votes is None else round_votes.count(vote_type)

    # -- thresholds (Algorithm 1 counts power: "2f+1" is +2/3 of it, "f+1" over 1/3) ----

    def polka_value(self, round_: int, value: bytes) -> bool:
        """2f+1 <PREVOTE, h, round_, value> (L28, L36)."""
        return self._has_quorum_for(round_, VOTE_PREVOTE, value)

    def polka_nil(self, round_: int) -> bool:
        """2f+1 <PREVOTE, h, round_, nil> (L44)."""
        return self._has_quorum_for(round_, VOTE_PREVOTE, NIL)

    def polka_any(self, round_: int) -> bool:
        """2f+1 <PREVOTE, h, round_, *> (L34)."""
        return self._has_quorum_any(round_, VOTE_PREVOTE)

    def precommit_any(self, round_: int) -> bool:
        """2f+1 <PRECOMMIT, h, round_, *> (L47)."""
        return self._has_quorum_any(round_, VOTE_PRECOMMIT)

    def precommit_value(self, round_: int, value: bytes) -> bool:
        """2f+1 <PRECOMMIT, h, round_, value> (L49)."""
        return self._has_quorum_for(round_, VOTE_PRECOMMIT, value)

    def skip_round(self, current_round: int) -> int | None:
        """The highest round above ``current_round`` in which f+1 of the power
        voted (L55), each validator counted once whatever it sent."""
        best = None
        for round_, round_votes in self.rounds.items():
            if round_ > current_round and self.validator_set.has_one_third(
                    round_votes.voter_power):
                best = round_ if best is None else max(best, round_)
        return best

    def _has_quorum_for(self, round_: int, vote_type: int, value: bytes) -> bool:
        count = self._count(round_, vote_type)
        return count is not None and self.validator_set.has_quorum(
            count.power_by_value.get(value, 0))

    def _has_quorum_any(self, round_: int, vote_type: int) -> bool:
        count = self._count(round_, vote_type)
        return count is not None and self.validator_set.has_quorum(count.power)

    # -- the votes themselves -------------------------------------------------------------

    def all_votes(self) -> list[Vote]:
        """Every vote counted at this height, conflicting ones included (to relay)."""
        votes: list[Vote] = []
        for _, round_votes in sorted(self.rounds.items()):
            for count in (round_votes.prevotes, round_votes.precommits):
                votes.extend(count.votes.values())
                votes.extend(count.conflicting.values())
        return votes

    def precommits(self, round_: int, value: bytes) -> list[Vote]:
        """The precommits for ``value`` in ``round_`` (to build a commit)."""
        count = self._count(round_, VOTE_PRECOMMIT)
        if count is None:
            return []
        first = [v for v in count.votes.values() if v.block_hash == value]
        return first + [v for (_, block_hash), v in count.conflicting.items()
                        if block_hash == value]
