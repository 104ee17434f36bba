"""Step tables for ``state_machine.step``, by rule of Algorithm 1
(arXiv:1807.04938): the rules that fire (state before, input, state after,
outputs), the lock rules of L22 and L28, and the inputs each guard refuses;
then a few driver tests where the driver turns messages into those inputs."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from wattchain.consensus import state_machine as sm
from wattchain.consensus.driver import Decision, Driver, Timeout
from wattchain.consensus.messages import NIL, InvalidMessage, Proposal
from wattchain.consensus.state_machine import (
    BroadcastProposal,
    BroadcastVote,
    Decide,
    GetValue,
    NewRound,
    RoundState,
    ScheduleTimeout,
    Step,
    step,
)
from wattchain.consensus.validator_set import ProposerSchedule, ValidatorInfo, ValidatorSet
from wattchain.crypto import PrivateKey
from wattchain.types import VOTE_PRECOMMIT, VOTE_PREVOTE, Vote

H = 7
A, B = b"\xaa" * 32, b"\xbb" * 32
PROPOSE, PREVOTE, PRECOMMIT, COMMIT = Step.PROPOSE, Step.PREVOTE, Step.PRECOMMIT, Step.COMMIT


def at(round_: int = 0, step_: Step = PROPOSE, **fields: Any) -> RoundState:
    return replace(RoundState(H, round_, step_), **fields)


def prevote(round_: int, value: bytes | None) -> BroadcastVote:
    return BroadcastVote(VOTE_PREVOTE, round_, value)


def precommit(round_: int, value: bytes | None) -> BroadcastVote:
    return BroadcastVote(VOTE_PRECOMMIT, round_, value)


LOCKED_A0: dict[str, Any] = {
    "locked_value": A, "locked_round": 0, "valid_value": A, "valid_round": 0}
LOCKED_B1: dict[str, Any] = {
    "locked_value": B, "locked_round": 1, "valid_value": B, "valid_round": 1}
FLAGS: dict[str, Any] = {
    "prevote_timeout_scheduled": True, "polka_current_seen": True,
    "precommit_timeout_scheduled": True}

# (rule, before, input, after, outputs)
TABLE: list[tuple[str, RoundState, sm.Input, RoundState, list[sm.Output]]] = [
    # L11-21: StartRound
    ("L18 proposer without a valid value asks for one",
     RoundState(H), sm.StartRound(0, True), at(0), [GetValue(0)]),
    ("L21 non-proposer arms the propose timeout",
     RoundState(H), sm.StartRound(0, False), at(0), [ScheduleTimeout(PROPOSE, 0)]),
    ("L15 proposer re-proposes its valid value with its valid round",
     at(0, PRECOMMIT, **LOCKED_A0), sm.StartRound(1, True), at(1, **LOCKED_A0),
     [BroadcastProposal(1, A, 0)]),
    ("L11 a new round keeps lock and valid value, resets the first-time guards",
     at(0, PRECOMMIT, **LOCKED_A0, **FLAGS), sm.StartRound(1, False), at(1, **LOCKED_A0),
     [ScheduleTimeout(PROPOSE, 1)]),
    # L19: the application's value
    ("L19 the value is proposed with pol round -1",
     at(0), sm.ProposeValue(0, A), at(0), [BroadcastProposal(0, A, -1)]),
    # L34-35
    ("L34 +2/3 prevotes of any kind arm the prevote timeout",
     at(0, PREVOTE), sm.PolkaAny(0), at(0, PREVOTE, prevote_timeout_scheduled=True),
     [ScheduleTimeout(PREVOTE, 0)]),
    # L36-43
    ("L36 in prevote: lock, precommit v, remember it as valid",
     at(3, PREVOTE), sm.ProposalAndPolkaCurrent(3, A),
     at(3, PRECOMMIT, locked_value=A, locked_round=3, valid_value=A, valid_round=3,
        polka_current_seen=True), [precommit(3, A)]),
    ("L36 in precommit: only the valid value changes",
     at(3, PRECOMMIT, **LOCKED_B1), sm.ProposalAndPolkaCurrent(3, A),
     at(3, PRECOMMIT, locked_value=B, locked_round=1, valid_value=A, valid_round=3,
        polka_current_seen=True), []),
    # L44-46
    ("L44 +2/3 prevotes for nil: precommit nil",
     at(0, PREVOTE), sm.PolkaNil(0), at(0, PRECOMMIT), [precommit(0, None)]),
    # L47-48
    ("L47 +2/3 precommits of any kind arm the precommit timeout",
     at(0, PRECOMMIT), sm.PrecommitAny(0), at(0, PRECOMMIT, precommit_timeout_scheduled=True),
     [ScheduleTimeout(PRECOMMIT, 0)]),
    ("L47 in any step",
     at(0), sm.PrecommitAny(0), at(0, precommit_timeout_scheduled=True),
     [ScheduleTimeout(PRECOMMIT, 0)]),
    # L49-54
    ("L49 a valid proposal with +2/3 precommits is decided, in any round and step",
     at(2, PREVOTE, **LOCKED_B1), sm.ProposalAndPrecommitValue(1, A),
     at(2, COMMIT, **LOCKED_B1, decision=A), [Decide(1, A)]),
    # L55-56
    ("L55 +1/3 in a higher round: skip to it",
     at(1, PREVOTE), sm.SkipRound(4), at(1, PREVOTE), [NewRound(4)]),
    # L57-60
    ("L57 propose timeout: prevote nil",
     at(1), sm.TimeoutPropose(1), at(1, PREVOTE), [prevote(1, None)]),
    # L61-64
    ("L61 prevote timeout: precommit nil",
     at(1, PREVOTE), sm.TimeoutPrevote(1), at(1, PRECOMMIT), [precommit(1, None)]),
    # L65-67
    ("L65 precommit timeout: next round",
     at(1, PRECOMMIT), sm.TimeoutPrecommit(1), at(1, PRECOMMIT), [NewRound(2)]),
    ("L65 in any step of the current round",
     at(1, PREVOTE), sm.TimeoutPrecommit(1), at(1, PREVOTE), [NewRound(2)]),
]


@pytest.mark.parametrize(("before", "event", "after", "outputs"),
                         [row[1:] for row in TABLE], ids=[row[0] for row in TABLE])
def test_rule(before: RoundState, event: sm.Input, after: RoundState,
              outputs: list[sm.Output]) -> None:
    assert step(before, event) == (after, outputs)


def proposal(value: bytes, valid: bool = True) -> sm.ProposalInput:
    return sm.ProposalInput(2, value, valid)


def polka_previous(pol_round: int, value: bytes, valid: bool = True
                   ) -> sm.ProposalAndPolkaPrevious:
    return sm.ProposalAndPolkaPrevious(2, value, pol_round, valid)


# L22-33 in the propose step of round 2: (rule, lock, input, the value prevoted)
LOCK_RULES: list[tuple[str, dict[str, Any], sm.Input, bytes | None]] = [
    ("L22 valid and unlocked: prevote v", {}, proposal(A), A),
    ("L22 locked on v: prevote v", LOCKED_A0, proposal(A), A),
    ("L22 locked on another value: prevote nil", LOCKED_A0, proposal(B), None),
    ("L22 invalid: prevote nil", {}, proposal(A, valid=False), None),
    ("L28 locked round below vr: prevote v", LOCKED_A0, polka_previous(1, B), B),
    ("L28 locked round equal to vr: prevote v", LOCKED_B1, polka_previous(1, A), A),
    ("L28 locked on v in a later round: prevote v", LOCKED_B1, polka_previous(0, B), B),
    ("L28 locked on another value after vr: prevote nil", LOCKED_B1, polka_previous(0, A), None),
    ("L28 invalid: prevote nil", {}, polka_previous(1, A, valid=False), None),
]


@pytest.mark.parametrize(("lock", "event", "prevoted"), [row[1:] for row in LOCK_RULES],
                         ids=[row[0] for row in LOCK_RULES])
def test_lock_rule(lock: dict[str, Any], event: sm.Input, prevoted: bytes | None) -> None:
    """A lock and valid value survive the prevote; only the step moves on."""
    assert step(at(2, **lock), event) == (at(2, PREVOTE, **lock), [prevote(2, prevoted)])


# (rule, state, input): a guard does not hold, so nothing changes. The driver
# relies on it: the very same state object and no outputs mean "refused".
REFUSED: list[tuple[str, RoundState, sm.Input]] = [
    # L11-21: StartRound
    ("L11 a round at or below the current one is ignored", at(2, PREVOTE), sm.StartRound(2, True)),
    # L19: the application's value
    ("L19 a value for another round is dropped", at(1), sm.ProposeValue(0, A)),
    ("L19 a value after the propose step is dropped", at(0, PREVOTE), sm.ProposeValue(0, A)),
    # L22-27
    ("L22 only in the propose step", at(0, PREVOTE), sm.ProposalInput(0, A, True)),
    ("L22 only for the current round", at(1), sm.ProposalInput(0, A, True)),
    # L28-33
    ("L28 vr must be below the round", at(1), sm.ProposalAndPolkaPrevious(1, A, 1, True)),
    ("L28 only in the propose step", at(2, PREVOTE), sm.ProposalAndPolkaPrevious(2, A, 1, True)),
    ("L28 only for the current round", at(3), sm.ProposalAndPolkaPrevious(2, A, 1, True)),
    # L34-35
    ("L34 only the first time", at(0, PREVOTE, prevote_timeout_scheduled=True), sm.PolkaAny(0)),
    ("L34 only in the prevote step", at(0, PRECOMMIT), sm.PolkaAny(0)),
    ("L34 only for the current round", at(1, PREVOTE), sm.PolkaAny(0)),
    # L36-43
    ("L36 only the first time",
     at(3, PREVOTE, polka_current_seen=True), sm.ProposalAndPolkaCurrent(3, A)),
    ("L36 only the first time, in precommit too",
     at(3, PRECOMMIT, polka_current_seen=True), sm.ProposalAndPolkaCurrent(3, A)),
    ("L36 not in the propose step", at(3), sm.ProposalAndPolkaCurrent(3, A)),
    ("L36 only for the current round", at(3, PREVOTE), sm.ProposalAndPolkaCurrent(2, A)),
    # L44-46
    ("L44 only in the prevote step", at(0, PRECOMMIT), sm.PolkaNil(0)),
    ("L44 only for the current round", at(0, PREVOTE), sm.PolkaNil(1)),
    # L47-48
    ("L47 only the first time",
     at(0, PRECOMMIT, precommit_timeout_scheduled=True), sm.PrecommitAny(0)),
    ("L47 only for the current round", at(2, PRECOMMIT), sm.PrecommitAny(1)),
    # L55-56
    ("L55 not to the current round", at(4, PREVOTE), sm.SkipRound(4)),
    ("L55 not to a lower round", at(4, PREVOTE), sm.SkipRound(2)),
    # L57-60
    ("L57 only for the current round", at(2), sm.TimeoutPropose(1)),
    ("L57 only in the propose step", at(1, PREVOTE), sm.TimeoutPropose(1)),
    # L61-64
    ("L61 only for the current round", at(2, PREVOTE), sm.TimeoutPrevote(1)),
    ("L61 only in the prevote step", at(1, PRECOMMIT), sm.TimeoutPrevote(1)),
    # L65-67
    ("L65 only for the current round", at(2, PRECOMMIT), sm.TimeoutPrecommit(1)),
]


@pytest.mark.parametrize(("before", "event"), [row[1:] for row in REFUSED],
                         ids=[row[0] for row in REFUSED])
def test_refused(before: RoundState, event: sm.Input) -> None:
    after, outputs = step(before, event)
    assert after is before and outputs == []


EVERY_INPUT: list[sm.Input] = [
    sm.StartRound(3, True), sm.ProposeValue(2, A), sm.ProposalInput(2, A, True),
    sm.ProposalAndPolkaPrevious(2, A, 0, True), sm.PolkaAny(2), sm.ProposalAndPolkaCurrent(2, B),
    sm.PolkaNil(2), sm.PrecommitAny(2), sm.ProposalAndPrecommitValue(2, B), sm.SkipRound(5),
    sm.TimeoutPropose(2), sm.TimeoutPrevote(2), sm.TimeoutPrecommit(2),
]


@pytest.mark.parametrize("event", EVERY_INPUT, ids=lambda event: type(event).__name__)
def test_a_decided_state_ignores_every_input(event: sm.Input) -> None:
    decided = at(2, COMMIT, decision=A)
    assert step(decided, event) == (decided, [])


# -- the driver turns messages into these inputs -----------------------------------------

KEYS = [PrivateKey(bytes([i + 1]) * 32) for i in range(4)]
SCHEDULE = ProposerSchedule(ValidatorSet(ValidatorInfo(k.public_key, 1) for k in KEYS), 1)


def proposer_key(round_: int) -> PrivateKey:
    return next(k for k in KEYS if k.address == SCHEDULE.proposer(H, round_))


def vote(key: PrivateKey, vote_type: int, round_: int, value: bytes) -> Vote:
    return Vote(vote_type, H, round_, value, 0, key.address)


def observer() -> Driver:
    driver = Driver(H, SCHEDULE, None)
    driver.start()
    return driver


def test_driver_decides_on_precommits_for_a_later_conflicting_proposal() -> None:
    """An equivocating proposer showed us A first; +2/3 precommitted B, whose
    proposal arrives second. L49 holds for B, so we decide B."""
    driver, proposer = observer(), proposer_key(0)
    driver.on_proposal(Proposal(H, 0, A, -1, proposer.address), True)
    for key in KEYS[:3]:
        driver.on_vote(vote(key, VOTE_PRECOMMIT, 0, B))
    actions = driver.on_proposal(Proposal(H, 0, B, -1, proposer.address), True)
    decisions = [a for a in actions if isinstance(a, Decision)]
    assert [(d.round, d.block_hash, len(d.precommits)) for d in decisions] == [(0, B, 3)]


def test_driver_locks_on_the_proposal_that_has_the_polka() -> None:
    driver = Driver(H, SCHEDULE, KEYS[3].address)
    driver.start()
    proposer = proposer_key(0)
    driver.on_proposal(Proposal(H, 0, A, -1, proposer.address), True)  # we prevote A
    driver.on_proposal(Proposal(H, 0, B, -1, proposer.address), True)
    for key in KEYS[:3]:
        driver.on_vote(vote(key, VOTE_PREVOTE, 0, B))
    assert (driver.state.locked_value, driver.state.valid_value) == (B, B)


def test_driver_refuses_proposals_from_others_and_other_heights() -> None:
    driver, proposer = observer(), proposer_key(0)
    stranger = next(k for k in KEYS if k is not proposer)
    with pytest.raises(InvalidMessage):
        driver.on_proposal(Proposal(H, 0, A, -1, stranger.address), True)
    with pytest.raises(InvalidMessage):
        driver.on_proposal(Proposal(H + 1, 0, A, -1, proposer.address), True)


def test_driver_timeouts_grow_with_the_round_and_ignore_other_heights() -> None:
    follower = next(k for k in KEYS if k.address != SCHEDULE.proposer(H, 0))
    driver = Driver(H, SCHEDULE, follower.address)
    actions = driver.start()
    assert actions == [Timeout(PROPOSE, H, 0, 1_000)]
    assert driver.on_timeout(PROPOSE, H + 1, 0) == []
    assert driver.on_timeout(PROPOSE, H, 0) == [prevote(0, None)]
    assert driver.timeouts.duration_ms(PROPOSE, 3) == 2_500


def test_driver_arms_the_prevote_timeout_the_first_time_only() -> None:
    """L34 holds again after every further prevote; the state machine's guard
    alone makes it fire once."""
    driver = observer()
    driver.on_proposal(Proposal(H, 0, A, -1, proposer_key(0).address), True)
    assert driver.state.step == PREVOTE
    actions = [driver.on_vote(vote(key, VOTE_PREVOTE, 0, value))
               for key, value in zip(KEYS, (A, B, NIL, NIL), strict=True)]
    assert actions == [[], [], [Timeout(PREVOTE, H, 0, 500)], []]
