"""Tendermint's round state machine, as ``step(state, input) -> (state, outputs)``.

This one file holds every transition of Algorithm 1 of Buchman, Kwon and
Milosevic, "The latest gossip on BFT consensus" (arXiv:1807.04938). Each
branch cites the pseudocode line it implements (``# L22``). It performs no
I/O, reads no clock and draws no random numbers; the driver turns messages
and timeouts into the threshold inputs below, and executes the outputs.

Values are block hashes. ``valid`` on an input is the application's verdict
on the proposed block (the paper's ``valid(v)``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import IntEnum

from wattchain.types import VOTE_PRECOMMIT, VOTE_PREVOTE


class Step(IntEnum):
    PROPOSE = 1
    PREVOTE = 2
    PRECOMMIT = 3
    COMMIT = 4  # decided; waiting for the next height


@dataclass(frozen=True, slots=True)
class RoundState:
    height: int
    round: int = -1
    step: Step = Step.PROPOSE
    locked_value: bytes | None = None
    locked_round: int = -1
    valid_value: bytes | None = None
    valid_round: int = -1
    decision: bytes | None = None
    # "for the first time" guards of L34, L36 and L47, reset each round
    prevote_timeout_scheduled: bool = False
    polka_current_seen: bool = False
    precommit_timeout_scheduled: bool = False


# -- inputs -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StartRound:
    round: int
    is_proposer: bool


@dataclass(frozen=True, slots=True)
class ProposeValue:
    """The application's answer to GetValue: a fresh block to propose."""

    round: int
    value: bytes


@dataclass(frozen=True, slots=True)
class ProposalInput:
    """A proposal for the current round with pol_round = -1 (L22)."""

    value: bytes
    valid: bool


@dataclass(frozen=True, slots=True)
class ProposalAndPolkaPrevious:
    """A proposal with pol_round vr < round and +2/3 prevotes for it in vr (L28)."""

    value: bytes
    pol_round: int
    valid: bool


@dataclass(frozen=True, slots=True)
class PolkaAny:
    """+2/3 prevotes of the current round, for anything (L34)."""


@dataclass(frozen=True, slots=True)
class ProposalAndPolkaCurrent:
    """A valid proposal and +2/3 prevotes for it in the current round (L36)."""

    value: bytes


@dataclass(frozen=True, slots=True)
class PolkaNil:
    """+2/3 prevotes for nil in the current round (L44)."""


@dataclass(frozen=True, slots=True)
class PrecommitAny:
    """+2/3 precommits of the current round, for anything (L47)."""


@dataclass(frozen=True, slots=True)
class ProposalAndPrecommitValue:
    """A valid proposal of round r and +2/3 precommits for it in r (L49)."""

    round: int
    value: bytes


@dataclass(frozen=True, slots=True)
class SkipRound:
    """+1/3 of the power sent messages in a higher round (L55)."""

    round: int


@dataclass(frozen=True, slots=True)
class TimeoutPropose:
    round: int


@dataclass(frozen=True, slots=True)
class TimeoutPrevote:
    round: int


@dataclass(frozen=True, slots=True)
class TimeoutPrecommit:
    round: int


Input = (StartRound | ProposeValue | ProposalInput | ProposalAndPolkaPrevious | PolkaAny
         | ProposalAndPolkaCurrent | PolkaNil | PrecommitAny | ProposalAndPrecommitValue
         | SkipRound | TimeoutPropose | TimeoutPrevote | TimeoutPrecommit)


# -- outputs --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GetValue:
    round: int


@dataclass(frozen=True, slots=True)
class BroadcastProposal:
    round: int
    value: bytes
    pol_round: int


@dataclass(frozen=True, slots=True)
class BroadcastVote:
    vote_type: int
    round: int
    value: bytes | None  # None: nil


@dataclass(frozen=True, slots=True)
class ScheduleTimeout:
    step: Step
    round: int


@dataclass(frozen=True, slots=True)
class Decide:
    round: int
    value: bytes


@dataclass(frozen=True, slots=True)
class NewRound:
    round: int


Output = GetValue | BroadcastProposal | BroadcastVote | ScheduleTimeout | Decide | NewRound


# -- the transition function ------------------------------------------------------


def step(state: RoundState, event: Input) -> tuple[RoundState, list[Output]]:
    """Apply one input. An input whose guard does not hold changes nothing."""
    if state.decision is not None:
        return state, []  # decided: the driver moves to the next height
    match event:
        case StartRound(round=round_, is_proposer=is_proposer):
            return start_round(state, round_, is_proposer)
        case ProposeValue(round=round_, value=value):
            # L19: proposal <- getValue(), only while still proposing in that round
            if round_ == state.round and state.step == Step.PROPOSE:
                return state, [BroadcastProposal(round_, value, -1)]
            return state, []
        case ProposalInput(value=value, valid=valid) if state.step == Step.PROPOSE:
            # L22-27: prevote v if valid and not locked on something else
            accept = valid and (state.locked_round == -1 or state.locked_value == value)
            return _prevote(state, value if accept else None)
        case ProposalAndPolkaPrevious(value=value, pol_round=vr, valid=valid) if (
                state.step == Step.PROPOSE and 0 <= vr < state.round):
            # L28-33: the polka of round vr may unlock us
            accept = valid and (state.locked_round <= vr or state.locked_value == value)
            return _prevote(state, value if accept else None)
        case PolkaAny() if state.step == Step.PREVOTE and not state.prevote_timeout_scheduled:
            # L34-35
            return (replace(state, prevote_timeout_scheduled=True),
                    [ScheduleTimeout(Step.PREVOTE, state.round)])
        case ProposalAndPolkaCurrent(value=value) if (
                state.step >= Step.PREVOTE and not state.polka_current_seen):
            return _lock_or_update_valid(state, value)
        case PolkaNil() if state.step == Step.PREVOTE:
            # L44-46
            return _precommit(state, None)
        case PrecommitAny() if not state.precommit_timeout_scheduled:
            # L47-48
            return (replace(state, precommit_timeout_scheduled=True),
                    [ScheduleTimeout(Step.PRECOMMIT, state.round)])
        case ProposalAndPrecommitValue(round=round_, value=value):
            # L49-54: decide (the driver starts the next height)
            return replace(state, decision=value, step=Step.COMMIT), [Decide(round_, value)]
        case SkipRound(round=round_) if round_ > state.round:
            # L55-56
            return state, [NewRound(round_)]
        case TimeoutPropose(round=round_) if (
                round_ == state.round and state.step == Step.PROPOSE):
            # L57-60
            return _prevote(state, None)
        case TimeoutPrevote(round=round_) if (
                round_ == state.round and state.step == Step.PREVOTE):
            # L61-64
            return _precommit(state, None)
        case TimeoutPrecommit(round=round_) if round_ == state.round:
            # L65-67
            return state, [NewRound(round_ + 1)]
    return state, []


def start_round(state: RoundState, round_: int, is_proposer: bool
                ) -> tuple[RoundState, list[Output]]:
    """L11-21: enter ``round_``; the proposer re-proposes its valid value or asks
    the application for a new one, everyone else arms the propose timeout."""
    if round_ <= state.round:
        return state, []
    state = replace(state, round=round_, step=Step.PROPOSE, prevote_timeout_scheduled=False,
                    polka_current_seen=False, precommit_timeout_scheduled=False)
    if not is_proposer:
        return state, [ScheduleTimeout(Step.PROPOSE, round_)]  # L21
    if state.valid_value is not None:  # L15-16
        return state, [BroadcastProposal(round_, state.valid_value, state.valid_round)]
    return state, [GetValue(round_)]  # L18, answered by ProposeValue


def _prevote(state: RoundState, value: bytes | None) -> tuple[RoundState, list[Output]]:
    return (replace(state, step=Step.PREVOTE),
            [BroadcastVote(VOTE_PREVOTE, state.round, value)])


def _precommit(state: RoundState, value: bytes | None) -> tuple[RoundState, list[Output]]:
    return (replace(state, step=Step.PRECOMMIT),
            [BroadcastVote(VOTE_PRECOMMIT, state.round, value)])


def _lock_or_update_valid(state: RoundState, value: bytes) -> tuple[RoundState, list[Output]]:
    """L36-43: on a polka for a valid proposal, lock (if still prevoting) and
    remember the value as valid."""
    outputs: list[Output] = []
    if state.step == Step.PREVOTE:  # L37-41
        state = replace(state, locked_value=value, locked_round=state.round,
                        step=Step.PRECOMMIT)
        outputs.append(BroadcastVote(VOTE_PRECOMMIT, state.round, value))
    state = replace(state, valid_value=value, valid_round=state.round,  # L42-43
                    polka_current_seen=True)
    return state, outputs
