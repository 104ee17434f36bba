"""The driver: turns messages and timeouts into state-machine inputs.

It owns one height: the round state, the vote keeper and the proposals seen.
After every message it evaluates which thresholds of Algorithm 1 now hold
and feeds them to ``state_machine.step`` until nothing changes, then returns
the actions for its caller (the node, or the simulation) to carry out:
sign and broadcast, schedule a timeout, fetch a value, commit a decision,
record evidence. No I/O, no clock, no randomness.
"""

from __future__ import annotations

from dataclasses import dataclass

from wattchain.consensus.messages import Evidence, InvalidMessage, Proposal
from wattchain.consensus.state_machine import (
    BroadcastProposal,
    BroadcastVote,
    Decide,
    GetValue,
    Input,
    NewRound,
    PolkaAny,
    PolkaNil,
    PrecommitAny,
    ProposalAndPolkaCurrent,
    ProposalAndPolkaPrevious,
    ProposalAndPrecommitValue,
    ProposalInput,
    ProposeValue,
    RoundState,
    ScheduleTimeout,
    SkipRound,
    StartRound,
    Step,
    TimeoutPrecommit,
    TimeoutPrevote,
    TimeoutPropose,
    step,
)
from wattchain.consensus.validator_set import ProposerSchedule
from wattchain.consensus.vote_keeper import AddOutcome, VoteKeeper
from wattchain.types import VOTE_PRECOMMIT, VOTE_PREVOTE, Vote

MAX_CASCADE = 64  # inputs applied per message; far above what one message can enable


@dataclass(frozen=True, slots=True)
class TimeoutConfig:
    """Timeouts in ms; each grows linearly with the round (Tendermint's rule)."""

    propose_ms: int = 1_000
    propose_delta_ms: int = 500
    prevote_ms: int = 500
    prevote_delta_ms: int = 250
    precommit_ms: int = 500
    precommit_delta_ms: int = 250

    def duration_ms(self, step_: Step, round_: int) -> int:
        base, delta = {
            Step.PROPOSE: (self.propose_ms, self.propose_delta_ms),
            Step.PREVOTE: (self.prevote_ms, self.prevote_delta_ms),
            Step.PRECOMMIT: (self.precommit_ms, self.precommit_delta_ms),
        }[step_]
        return base + delta * round_


@dataclass(frozen=True, slots=True)
class Timeout:
    """Call ``Driver.on_timeout(step, height, round)`` after ``duration_ms``."""

    step: Step
    height: int
    round: int
    duration_ms: int


@dataclass(frozen=True, slots=True)
class Decision:
    height: int
    round: int
    block_hash: bytes
    precommits: tuple[Vote, ...]


@dataclass(frozen=True, slots=True)
class RecordEvidence:
    evidence: Evidence


Action = GetValue | BroadcastProposal | BroadcastVote | Timeout | Decision | RecordEvidence


class Driver:
    def __init__(self, height: int, schedule: ProposerSchedule, address: bytes | None,
                 timeouts: TimeoutConfig | None = None) -> None:
        self.height = height
        self.schedule = schedule
        self.validator_set = schedule.validator_set
        self.address = address  # None: an observer that never proposes or votes
        self.timeouts = timeouts or TimeoutConfig()
        self.state = RoundState(height)
        self.votes = VoteKeeper(height, self.validator_set)
        # round -> block hash -> (proposal, valid): a proposer that equivocates
        # shows different peers different proposals; the rules (L36, L49) hold for
        # any of them, so a later one must not be dropped (gossip relays it)
        self.proposals: dict[int, dict[bytes, tuple[Proposal, bool]]] = {}

    @property
    def is_validator(self) -> bool:
        return self.address is not None and self.validator_set.power_of(self.address) > 0

    def proposer(self, round_: int) -> bytes:
        return self.schedule.proposer(self.height, round_)

    # -- entry points -------------------------------------------------------------

    def start(self) -> list[Action]:
        return self._apply(self._start_round(0))

    def on_value(self, round_: int, block_hash: bytes) -> list[Action]:
        """The application's block for GetValue(round_)."""
        return self._apply(ProposeValue(round_, block_hash))

    def on_proposal(self, proposal: Proposal, valid: bool) -> list[Action]:
        """A proposal whose signature the caller verified; ``valid`` is the
        application's verdict on its block. Raises InvalidMessage if it is not
        from the round's proposer or is for another height."""
        if proposal.height != self.height:
            raise InvalidMessage(f"proposal for height {proposal.height}, at {self.height}")
        if proposal.proposer != self.proposer(proposal.round):
            raise InvalidMessage("proposal from a validator that is not the round's proposer")
        of_round = self.proposals.setdefault(proposal.round, {})
        if proposal.block_hash in of_round:
            return []  # a duplicate
        of_round[proposal.block_hash] = (proposal, valid)
        return self._evaluate()

    def on_vote(self, vote: Vote) -> list[Action]:
        """A vote whose signature the caller verified."""
        outcome = self.votes.add(vote)
        if outcome is AddOutcome.EQUIVOCATION:
            return [RecordEvidence(self.votes.evidence[-1]), *self._evaluate()]
        if outcome is AddOutcome.DUPLICATE:
            return []
        return self._evaluate()

    def on_timeout(self, step_: Step, height: int, round_: int) -> list[Action]:
        if height != self.height:
            return []
        event: Input
        if step_ == Step.PROPOSE:
            event = TimeoutPropose(round_)
        elif step_ == Step.PREVOTE:
            event = TimeoutPrevote(round_)
        else:
            event = TimeoutPrecommit(round_)
        return self._apply(event)

    # -- evaluation ---------------------------------------------------------------

    def _start_round(self, round_: int) -> StartRound:
        is_proposer = self.address is not None and self.proposer(round_) == self.address
        return StartRound(round_, is_proposer)

    def _apply(self, event: Input) -> list[Action]:
        actions = self._step(event)
        return actions + self._evaluate()

    def _step(self, event: Input) -> list[Action]:
        self.state, outputs = step(self.state, event)
        actions: list[Action] = []
        for output in outputs:
            if isinstance(output, NewRound):
                actions.extend(self._step(self._start_round(output.round)))
            elif isinstance(output, ScheduleTimeout):
                actions.append(Timeout(output.step, self.height, output.round,
                                       self.timeouts.duration_ms(output.step, output.round)))
            elif isinstance(output, Decide):
                actions.append(Decision(self.height, output.round, output.value, tuple(
                    self.votes.precommits(output.round, output.value))))
            elif isinstance(output, (BroadcastVote, BroadcastProposal)) and not self.is_validator:
                continue  # observers follow along silently
            else:
                actions.append(output)
        return actions

    def _evaluate(self) -> list[Action]:
        actions: list[Action] = []
        for _ in range(MAX_CASCADE):
            event = self._next_input()
            if event is None:
                break
            actions.extend(self._step(event))
        return actions

    def _next_input(self) -> Input | None:
        """The first threshold input that holds now and would change the state."""
        state, votes = self.state, self.votes
        if state.decision is not None:
            return None
        for round_, of_round in self.proposals.items():  # L49
            for proposal, valid in of_round.values():
                if valid and votes.has_quorum_for(round_, VOTE_PRECOMMIT, proposal.block_hash):
                    return ProposalAndPrecommitValue(round_, proposal.block_hash)
        skip = votes.highest_skip_round(state.round)  # L55
        if skip is not None:
            return SkipRound(skip)
        for proposal, valid in self.proposals.get(state.round, {}).values():
            event = self._proposal_input(proposal, valid)
            if event is not None:
                return event
        if state.step == Step.PREVOTE:
            if not state.prevote_timeout_scheduled and votes.has_quorum_any(
                    state.round, VOTE_PREVOTE):
                return PolkaAny()  # L34
            if votes.has_polka_nil(state.round):
                return PolkaNil()  # L44
        if not state.precommit_timeout_scheduled and votes.has_quorum_any(
                state.round, VOTE_PRECOMMIT):
            return PrecommitAny()  # L47
        return None

    def _proposal_input(self, proposal: Proposal, valid: bool) -> Input | None:
        state, votes, value = self.state, self.votes, proposal.block_hash
        if state.step == Step.PROPOSE:
            if proposal.pol_round == -1:
                return ProposalInput(value, valid)  # L22
            if proposal.pol_round < state.round and votes.has_quorum_for(
                    proposal.pol_round, VOTE_PREVOTE, value):
                return ProposalAndPolkaPrevious(value, proposal.pol_round, valid)  # L28
            return None
        if valid and not state.polka_current_seen and votes.has_quorum_for(
                state.round, VOTE_PREVOTE, value):
            return ProposalAndPolkaCurrent(value)  # L36
        return None
