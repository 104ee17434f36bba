"""Tendermint's round state machine: ``step(state, input) -> (state, outputs)``.

This file owns every transition rule of Algorithm 1 of Buchman, Kwon and
Milosevic, "The latest gossip on BFT consensus" (arXiv:1807.04938). ``step``
is one ``match`` on (step, input): one arm per rule, guarded by the rule's
conditions and marked with the pseudocode line it implements (``# L22``).
Each guard is checked in its arm and nowhere else, the "for the first time"
of L34, L36 and L47 included: the driver offers every input whose threshold
holds, and this function decides whether a rule fires.

Every input names the round it belongs to. The paper's round_p is
``state.round``; an arm for the current round checks ``input.round ==
state.round``. Values are block hashes, and ``valid`` on an input is the
application's verdict on the proposed block (the paper's valid(v)). No I/O,
no clock, no randomness.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import IntEnum

from wattchain.types import VOTE_PRECOMMIT, VOTE_PREVOTE


class Step(IntEnum):
    """step_p; the values are written to the node's WAL (timeouts)."""

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
    # the "for the first time" of L34, L36 and L47; a new round clears them
    prevote_timeout_scheduled: bool = False
    polka_current_seen: bool = False
    precommit_timeout_scheduled: bool = False


# -- inputs: each names its round ---------------------------------------------------
# "2f+1" is +2/3 of the voting power, "f+1" more than 1/3 of it.


@dataclass(frozen=True, slots=True)
class AtRound:
    """An input or output that carries nothing but its round."""

    round: int


@dataclass(frozen=True, slots=True)
class ValueAtRound:
    """An input or output about one value (a block hash) in its round."""

    round: int
    value: bytes


@dataclass(frozen=True, slots=True)
class StartRound(AtRound):
    """L11 StartRound(round); ``is_proposer``: proposer(h_p, round) = p."""

    is_proposer: bool


class ProposeValue(ValueAtRound):
    """L18: the application's answer to getValue(), a fresh block for ``round``."""


@dataclass(frozen=True, slots=True)
class ProposalInput(ValueAtRound):
    """L22: <PROPOSAL, h_p, round, v, -1> from proposer(h_p, round)."""

    valid: bool


@dataclass(frozen=True, slots=True)
class ProposalAndPolkaPrevious(ValueAtRound):
    """L28: <PROPOSAL, h_p, round, v, vr> and 2f+1 <PREVOTE, h_p, vr, id(v)>."""

    pol_round: int  # vr
    valid: bool


class PolkaAny(AtRound):
    """L34: 2f+1 <PREVOTE, h_p, round, *>."""


class ProposalAndPolkaCurrent(ValueAtRound):
    """L36: a valid <PROPOSAL, h_p, round, v, *> and 2f+1 <PREVOTE, h_p, round, id(v)>."""


class PolkaNil(AtRound):
    """L44: 2f+1 <PREVOTE, h_p, round, nil>."""


class PrecommitAny(AtRound):
    """L47: 2f+1 <PRECOMMIT, h_p, round, *>."""


class ProposalAndPrecommitValue(ValueAtRound):
    """L49: a valid <PROPOSAL, h_p, round, v, *> and 2f+1 <PRECOMMIT, h_p, round, id(v)>,
    in any round."""


class SkipRound(AtRound):
    """L55: f+1 <*, h_p, round, *, *>, with round above round_p."""


class TimeoutPropose(AtRound):
    """L57 OnTimeoutPropose(h_p, round)."""


class TimeoutPrevote(AtRound):
    """L61 OnTimeoutPrevote(h_p, round)."""


class TimeoutPrecommit(AtRound):
    """L65 OnTimeoutPrecommit(h_p, round)."""


Input = (StartRound | ProposeValue | ProposalInput | ProposalAndPolkaPrevious | PolkaAny
         | ProposalAndPolkaCurrent | PolkaNil | PrecommitAny | ProposalAndPrecommitValue
         | SkipRound | TimeoutPropose | TimeoutPrevote | TimeoutPrecommit)


# -- outputs ---------------------------------------------------------------------------


class GetValue(AtRound):
    """L18 getValue(): the driver asks the application, which answers with ProposeValue."""


@dataclass(frozen=True, slots=True)
class BroadcastProposal(ValueAtRound):
    """L16, L19: <PROPOSAL, h_p, round, value, pol_round>."""

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


class Decide(ValueAtRound):
    """L49 decision_p[h_p] = v: the driver commits and starts the next height."""


class NewRound(AtRound):
    """L56, L67: start ``round`` (the driver answers with StartRound)."""


Output = GetValue | BroadcastProposal | BroadcastVote | ScheduleTimeout | Decide | NewRound


# -- the transition function --------------------------------------------------------------


def step(state: RoundState, event: Input) -> tuple[RoundState, list[Output]]:
    """Apply one input. The first arm whose step, input and guard match fires;
    an input no arm accepts returns ``state`` itself and no outputs."""
    this_round = event.round == state.round
    match (state.step, event):
        case (Step.COMMIT, _):
            return state, []  # decided (L49): the driver moves to the next height
        case (_, StartRound(round=round_, is_proposer=False)) if round_ > state.round:
            # L11, L21: wait for the proposer
            return _enter_round(state, round_), [ScheduleTimeout(Step.PROPOSE, round_)]
        case (_, StartRound(round=round_)) if (
                round_ > state.round and state.valid_value is not None):
            # L11, L14-16: the proposer proposes its valid value again
            return _enter_round(state, round_), [
                BroadcastProposal(round_, state.valid_value, state.valid_round)]
        case (_, StartRound(round=round_)) if round_ > state.round:
            # L11, L18: the proposer asks the application (answered by ProposeValue)
            return _enter_round(state, round_), [GetValue(round_)]
        case (Step.PROPOSE, ProposeValue(value=value)) if this_round:
            # L19
            return state, [BroadcastProposal(state.round, value, -1)]
        case (Step.PROPOSE, ProposalInput(value=value, valid=valid)) if this_round:
            # L22-27: prevote v if valid and not locked on another value
            accept = valid and (state.locked_round == -1 or state.locked_value == value)
            return _prevote(state, value if accept else None)
        case (Step.PROPOSE, ProposalAndPolkaPrevious(value=value, pol_round=vr, valid=valid)) if (
                this_round and 0 <= vr < state.round):
            # L28-33: the polka of round vr may unlock us
            accept = valid and (state.locked_round <= vr or state.locked_value == value)
            return _prevote(state, value if accept else None)
        case (Step.PREVOTE, PolkaAny()) if this_round and not state.prevote_timeout_scheduled:
            # L34-35, for the first time
            return (replace(state, prevote_timeout_scheduled=True),
                    [ScheduleTimeout(Step.PREVOTE, state.round)])
        case (Step.PREVOTE, ProposalAndPolkaCurrent(value=value)) if (
                this_round and not state.polka_current_seen):
            # L36-43, for the first time: lock v, precommit v, remember v as valid
            locked = replace(state, locked_value=value, locked_round=state.round)
            precommitted, outputs = _precommit(locked, value)
            return _remember_valid(precommitted, value), outputs
        case (Step.PRECOMMIT, ProposalAndPolkaCurrent(value=value)) if (
                this_round and not state.polka_current_seen):
            # L36, L42-43, for the first time: precommitted already; remember v as valid
            return _remember_valid(state, value), []
        case (Step.PREVOTE, PolkaNil()) if this_round:
            # L44-46
            return _precommit(state, None)
        case (_, PrecommitAny()) if this_round and not state.precommit_timeout_scheduled:
            # L47-48, for the first time
            return (replace(state, precommit_timeout_scheduled=True),
                    [ScheduleTimeout(Step.PRECOMMIT, state.round)])
        case (_, ProposalAndPrecommitValue(round=round_, value=value)):
            # L49-54: decide v, whatever our round and step (the driver starts the next height)
            return replace(state, decision=value, step=Step.COMMIT), [Decide(round_, value)]
        case (_, SkipRound(round=round_)) if round_ > state.round:
            # L55-56
            return state, [NewRound(round_)]
        case (Step.PROPOSE, TimeoutPropose()) if this_round:
            # L57-60
            return _prevote(state, None)
        case (Step.PREVOTE, TimeoutPrevote()) if this_round:
            # L61-64
            return _precommit(state, None)
        case (_, TimeoutPrecommit()) if this_round:
            # L65-67
            return state, [NewRound(state.round + 1)]
    return state, []


def _enter_round(state: RoundState, round_: int) -> RoundState:
    """L11-12: round_p <- round, step_p <- propose; lock and valid value stay."""
    return replace(state, round=round_, step=Step.PROPOSE, prevote_timeout_scheduled=False,
                   polka_current_seen=False, precommit_timeout_scheduled=False)


def _prevote(state: RoundState, value: bytes | None) -> tuple[RoundState, list[Output]]:
    return (replace(state, step=Step.PREVOTE),
            [BroadcastVote(VOTE_PREVOTE, state.round, value)])


def _precommit(state: RoundState, value: bytes | None) -> tuple[RoundState, list[Output]]:
    return (replace(state, step=Step.PRECOMMIT),
            [BroadcastVote(VOTE_PRECOMMIT, state.round, value)])


def _remember_valid(state: RoundState, value: bytes) -> RoundState:
    """L42-43: validValue_p <- v, validRound_p <- round_p."""
    return replace(state, valid_value=value, valid_round=state.round, polka_current_seen=True)
