"""The driver: turns messages and timeouts into state-machine inputs.

It owns one height: the round state, the vote keeper and the proposals seen.
After every message it joins the thresholds the vote keeper reports with the
proposals it holds into inputs of Algorithm 1 and offers them to
``state_machine.step`` until the state machine accepts none (the rules and
their guards live there alone), then returns the actions for its caller (the
node, or the simulation) to carry out: sign and broadcast, schedule a
timeout, fetch a value, commit a decision, record evidence. No I/O, no clock,
no randomness.
"""

from __future__ import annotations

from collections.abc import Iterator
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
from wattchain.types import Vote

MAX_CASCADE = 64  # inputs applied per message; far above what one message can enable


class TimeoutConfig:
    """Timeouts in ms. Each step's grows linearly with the round (Tendermint's
    rule): base + delta * round."""

    def __init__(self, propose_ms: int = 1_000, propose_delta_ms: int = 500,
                 prevote_ms: int = 500, prevote_delta_ms: int = 250,
                 precommit_ms: int = 500, precommit_delta_ms: int = 250) -> None:
        self.base_and_delta = {
            Step.PROPOSE: (propose_ms, propose_delta_ms),  # L21, L57: awaiting the proposal
            Step.PREVOTE: (prevote_ms, prevote_delta_ms),  # L34, L61: after 2f+1 prevotes
            Step.PRECOMMIT: (precommit_ms, precommit_delta_ms),  # L47, L65
        }

    def duration_ms(self, step_: Step, round_: int) -> int:
        base, delta = self.base_and_delta[step_]
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
        # inputs the state machine refused in the current state: step is pure,
        # so until the state changes it would refuse them again
        self.refused: set[Input] = set()

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
        """A ``Timeout`` action fell due; one of another height is dropped."""
        if height != self.height:
            return []
        timeouts: dict[Step, type[TimeoutPropose | TimeoutPrevote | TimeoutPrecommit]] = {
            Step.PROPOSE: TimeoutPropose, Step.PREVOTE: TimeoutPrevote}
        return self._apply(timeouts.get(step_, TimeoutPrecommit)(round_))

    # -- feeding the state machine ------------------------------------------------------

    def _start_round(self, round_: int) -> StartRound:
        is_proposer = self.address is not None and self.proposer(round_) == self.address
        return StartRound(round_, is_proposer)

    def _apply(self, event: Input) -> list[Action]:
        """Step ``event``, then the threshold inputs it may have enabled."""
        return (self._step(event) or []) + self._evaluate()

    def _step(self, event: Input) -> list[Action] | None:
        """Feed one input to the state machine and turn its outputs into actions;
        None if no rule accepted it (the state is unchanged)."""
        if event in self.refused:
            return None
        state, outputs = step(self.state, event)
        if state is self.state and not outputs:
            self.refused.add(event)
            return None
        self.state, self.refused = state, set()
        actions: list[Action] = []
        for output in outputs:
            if isinstance(output, NewRound):
                actions.extend(self._step(self._start_round(output.round)) or [])
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
        """Offer the inputs that hold until the state machine accepts none;
        after each one it accepts, start over (it may have enabled others)."""
        actions: list[Action] = []
        for _ in range(MAX_CASCADE):
            accepted = self._step_first(self._inputs_that_hold())
            if accepted is None:
                break
            actions.extend(accepted)
        return actions

    def _step_first(self, inputs: Iterator[Input]) -> list[Action] | None:
        """Step ``inputs`` in order up to the first one the state machine accepts."""
        for event in inputs:
            actions = self._step(event)
            if actions is not None:
                return actions
        return None

    def _inputs_that_hold(self) -> Iterator[Input]:
        """Every input of Algorithm 1 whose messages we hold now: the vote
        keeper's thresholds joined with the proposals seen. Whether an input
        applies in this round and step, and for the first time, is the state
        machine's to decide."""
        round_, votes = self.state.round, self.votes
        for proposal_round, of_round in self.proposals.items():
            for proposal, valid in of_round.values():
                value = proposal.block_hash
                if valid and votes.precommit_value(proposal_round, value):
                    yield ProposalAndPrecommitValue(proposal_round, value)  # L49
        skip = votes.skip_round(round_)
        if skip is not None:
            yield SkipRound(skip)  # L55
        for proposal, valid in self.proposals.get(round_, {}).values():
            value, pol_round = proposal.block_hash, proposal.pol_round
            if pol_round == -1:
                yield ProposalInput(round_, value, valid)  # L22
            elif votes.polka_value(pol_round, value):
                yield ProposalAndPolkaPrevious(round_, value, pol_round, valid)  # L28
            if valid and votes.polka_value(round_, value):
                yield ProposalAndPolkaCurrent(round_, value)  # L36
        if votes.polka_any(round_):
            yield PolkaAny(round_)  # L34
        if votes.polka_nil(round_):
            yield PolkaNil(round_)  # L44
        if votes.precommit_any(round_):
            yield PrecommitAny(round_)  # L47
