"""Votes: counting and thresholds, equivocation evidence, real signatures on
votes and proposals, and the sign guard and WAL contracts of safety.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from wattchain.consensus.messages import (
    NIL,
    Evidence,
    InvalidMessage,
    Proposal,
    proposal_signer,
    vote_signer,
)
from wattchain.consensus.safety import (
    STEP_PRECOMMIT,
    STEP_PREVOTE,
    STEP_PROPOSAL,
    DoubleSignRefused,
    MemorySignGuard,
    MemoryWAL,
    SignedSlot,
)
from wattchain.consensus.validator_set import ValidatorInfo, ValidatorSet
from wattchain.consensus.vote_keeper import AddOutcome, VoteKeeper
from wattchain.crypto import PrivateKey
from wattchain.errors import DecodeError
from wattchain.types import VOTE_PRECOMMIT, VOTE_PREVOTE, Vote

H = 9
CHAIN = "wattchain-test"
A, B = b"\xaa" * 32, b"\xbb" * 32
KEYS = [PrivateKey(bytes([i + 1]) * 32) for i in range(5)]
STRANGER = PrivateKey(b"\x77" * 32)


def keeper(*powers: int) -> VoteKeeper:
    """A keeper for KEYS[:len(powers)] with the given powers."""
    return VoteKeeper(H, ValidatorSet(ValidatorInfo(k.public_key, p)
                                      for k, p in zip(KEYS, powers, strict=False)))


def vote(index: int, value: bytes = A, round_: int = 0, vote_type: int = VOTE_PREVOTE,
         height: int = H) -> Vote:
    return Vote(vote_type, height, round_, value, 1_000 + index, KEYS[index].address)


# -- counting -------------------------------------------------------------------------


def test_a_repeated_vote_is_a_duplicate_and_counts_once() -> None:
    votes = keeper(1, 1, 1, 1)
    assert votes.add(vote(0)) is AddOutcome.ADDED
    assert votes.add(vote(0)) is AddOutcome.DUPLICATE
    assert votes.add(replace(vote(0), timestamp_ms=5)) is AddOutcome.DUPLICATE
    assert votes.rounds[0].prevotes.power_by_value == {A: 1}


@pytest.mark.parametrize(("bad", "reason"), [
    (Vote(VOTE_PREVOTE, H, 0, A, 0, STRANGER.address), "outside the validator set"),
    (vote(0, height=H + 1), "height"),
    (vote(0, height=H - 1), "height"),
    (vote(0, vote_type=3), "vote type"),
])
def test_strangers_other_heights_and_unknown_types_are_refused(bad: Vote, reason: str) -> None:
    votes = keeper(1, 1, 1, 1)
    with pytest.raises(InvalidMessage, match=reason):
        votes.add(bad)
    assert votes.rounds == {}


def test_an_equivocation_yields_evidence_holding_both_votes() -> None:
    votes = keeper(1, 1, 1, 1)
    first, second = vote(2, A), vote(2, B)
    votes.add(first)
    assert votes.add(second) is AddOutcome.EQUIVOCATION
    [evidence] = votes.evidence
    assert (evidence.first, evidence.second) == (first, second)
    assert evidence.validator == KEYS[2].address and evidence.height == H
    evidence.check_shape()
    assert Evidence.decode(evidence.encode()).hash() == evidence.hash()
    assert Evidence(second, first).hash() == evidence.hash()  # order does not matter


def test_a_prevote_and_a_precommit_do_not_conflict() -> None:
    votes = keeper(1, 1, 1, 1)
    votes.add(vote(1, A, vote_type=VOTE_PREVOTE))
    assert votes.add(vote(1, B, vote_type=VOTE_PRECOMMIT)) is AddOutcome.ADDED
    assert votes.add(vote(1, B, round_=1)) is AddOutcome.ADDED
    assert votes.evidence == []


def test_a_conflicting_vote_counts_for_its_value_once_and_not_for_any_twice() -> None:
    """Algorithm 1 counts messages per value: the equivocator's second vote is
    part of B's polka, so every correct process that receives it (by gossip)
    sees the polka a peer locked on. Its power still counts once in total."""
    votes = keeper(1, 1, 1, 1)
    votes.add(vote(0, A))
    votes.add(vote(0, B))
    assert votes.add(vote(0, B)) is AddOutcome.DUPLICATE  # re-sent: no second evidence
    assert len(votes.evidence) == 1
    votes.add(vote(1, B))
    assert not votes.polka_value(0, B)
    votes.add(vote(2, B))
    assert votes.polka_value(0, B)
    assert votes.rounds[0].prevotes.power == 3 and votes.rounds[0].voter_power == 3


def test_a_commit_may_hold_an_equivocators_precommit_once() -> None:
    votes = keeper(1, 1, 1, 1)
    votes.add(vote(0, NIL, vote_type=VOTE_PRECOMMIT))
    for index in range(3):
        votes.add(vote(index, A, vote_type=VOTE_PRECOMMIT))
    assert sorted(v.validator for v in votes.precommits(0, A)) == sorted(
        k.address for k in KEYS[:3])
    assert votes.precommits(1, A) == []


# Powers 1, 2, 3, 4 (total 10): a quorum needs 7 (3p > 20), one third needs 4 (3p > 10).
@pytest.mark.parametrize(("voters", "quorum", "one_third"), [
    ((0, 1, 2), False, True),  # 6
    ((2, 3), True, True),  # 7: the smallest quorum
    ((0, 1, 3), True, True),  # 7
    ((0, 2), False, True),  # 4: the smallest third
    ((2,), False, False),  # 3
    ((0, 1), False, False),  # 3
    ((0, 1, 2, 3), True, True),  # 10
])
def test_weighted_thresholds_at_their_exact_boundaries(voters: tuple[int, ...], quorum: bool,
                                                       one_third: bool) -> None:
    votes = keeper(1, 2, 3, 4)
    for index in voters:
        votes.add(vote(index, A, round_=2))
        votes.add(vote(index, A, round_=2, vote_type=VOTE_PRECOMMIT))
    assert votes.polka_value(2, A) is quorum
    assert votes.polka_any(2) is quorum
    assert votes.precommit_value(2, A) is quorum
    assert votes.precommit_any(2) is quorum
    assert (votes.skip_round(1) == 2) is one_third


def test_quorum_of_any_mixes_values_and_polka_nil_needs_nil() -> None:
    votes = keeper(1, 1, 1, 1)
    votes.add(vote(0, A))
    votes.add(vote(1, B))
    votes.add(vote(2, NIL))
    assert votes.polka_any(0)
    assert not any(votes.polka_value(0, value) for value in (A, B, NIL))
    assert not votes.polka_nil(0)
    votes.add(vote(3, NIL))
    votes.add(vote(0, NIL, round_=1))
    assert not votes.polka_nil(0)
    assert not votes.precommit_any(0)
    votes.add(vote(0, NIL))  # an equivocation: it counts for nil too
    assert votes.polka_nil(0) and votes.polka_value(0, NIL)


def test_skip_round_counts_each_voter_once_and_only_above_the_current_round() -> None:
    votes = keeper(1, 1, 1, 1, 1)  # total 5: one third needs 2
    votes.add(vote(0, A, round_=4))
    votes.add(vote(0, A, round_=4, vote_type=VOTE_PRECOMMIT))
    assert votes.skip_round(0) is None  # one validator, twice
    votes.add(vote(1, NIL, round_=4, vote_type=VOTE_PRECOMMIT))
    votes.add(vote(2, A, round_=6))
    votes.add(vote(3, B, round_=6))
    assert votes.skip_round(0) == 6
    assert votes.skip_round(5) == 6
    assert votes.skip_round(6) is None


# -- signatures -------------------------------------------------------------------------


def signed_vote() -> Vote:
    unsigned = Vote(VOTE_PRECOMMIT, H, 2, A, 1_234, KEYS[0].address)
    return replace(unsigned, signature=KEYS[0].sign_digest(unsigned.sign_digest(CHAIN)))


def signed_proposal() -> Proposal:
    proposal = Proposal(H, 2, A, 1, KEYS[1].address)
    proposal.signature = KEYS[1].sign_digest(proposal.sign_digest(CHAIN))
    return proposal


# kind -> (a signed message, decode, recover the signer, the signing key)
SIGNED: dict[str, tuple[Callable[[], Any], Callable[[bytes], Any], Callable[[Any, str], bytes],
                        PrivateKey]] = {
    "vote": (signed_vote, Vote.decode, vote_signer, KEYS[0]),
    "proposal": (signed_proposal, Proposal.decode, proposal_signer, KEYS[1]),
}


@pytest.mark.parametrize("kind", SIGNED)
def test_a_signed_message_round_trips_and_recovers_its_signer(kind: str) -> None:
    make, decode, signer_of, key = SIGNED[kind]
    original = make()
    decoded = decode(original.encode())
    assert decoded == original
    assert signer_of(decoded, CHAIN) == key.public_key


TAMPERINGS: list[tuple[str, dict[str, object]]] = [
    *(("vote", change) for change in (
        {"vote_type": VOTE_PREVOTE}, {"height": H + 1}, {"round": 3}, {"block_hash": B},
        {"block_hash": NIL}, {"timestamp_ms": 1_235}, {"validator": KEYS[2].address})),
    *(("proposal", change) for change in (
        {"height": H + 1}, {"round": 3}, {"block_hash": B}, {"pol_round": -1},
        {"proposer": KEYS[2].address})),
]


@pytest.mark.parametrize(("kind", "change"), TAMPERINGS,
                         ids=[f"{kind}-{next(iter(change))}" for kind, change in TAMPERINGS])
def test_a_tampered_message_does_not_verify(kind: str, change: dict[str, object]) -> None:
    make, _, signer_of, key = SIGNED[kind]
    tampered = replace(make(), **change)
    try:
        assert signer_of(tampered, CHAIN) != key.public_key
    except InvalidMessage:
        pass  # the signature did not even recover a key


def test_a_vote_signed_for_another_chain_or_mangled_does_not_verify() -> None:
    original = signed_vote()
    assert vote_signer(original, "another-chain") != KEYS[0].public_key
    with pytest.raises(InvalidMessage):
        vote_signer(replace(original, signature=original.signature[:64]), CHAIN)
    with pytest.raises(InvalidMessage):
        vote_signer(replace(original, signature=b"\x00" * 65), CHAIN)


def test_a_proposal_whose_pol_round_is_not_below_its_round_does_not_decode() -> None:
    proposal = signed_proposal()
    proposal.pol_round = proposal.round
    with pytest.raises(DecodeError):
        Proposal.decode(proposal.encode())


# -- the sign guard and the WAL -----------------------------------------------------------


def guard_after(height: int, round_: int, step: int, block_hash: bytes) -> MemorySignGuard:
    guard = MemorySignGuard()
    assert guard.authorize(height, round_, step, block_hash) is None
    guard.record(SignedSlot(height, round_, step, block_hash, b"signed message"))
    return guard


def test_the_guard_hands_back_the_message_signed_for_the_same_slot_and_block() -> None:
    guard = guard_after(H, 1, STEP_PREVOTE, A)
    assert guard.authorize(H, 1, STEP_PREVOTE, A) == b"signed message"


@pytest.mark.parametrize(("height", "round_", "step"), [
    (H, 1, STEP_PROPOSAL), (H, 0, STEP_PRECOMMIT), (H - 1, 5, STEP_PRECOMMIT),
])
def test_the_guard_refuses_lower_slots(height: int, round_: int, step: int) -> None:
    guard = guard_after(H, 1, STEP_PREVOTE, A)
    with pytest.raises(DoubleSignRefused):
        guard.authorize(height, round_, step, A)
    with pytest.raises(DoubleSignRefused):
        guard.record(SignedSlot(height, round_, step, A, b"other"))


def test_the_guard_refuses_another_block_at_the_same_slot() -> None:
    guard = guard_after(H, 1, STEP_PREVOTE, A)
    for other in (B, NIL):
        with pytest.raises(DoubleSignRefused):
            guard.authorize(H, 1, STEP_PREVOTE, other)
    with pytest.raises(DoubleSignRefused):
        guard.record(SignedSlot(H, 1, STEP_PREVOTE, B, b"other"))
    assert guard.last is not None and guard.last.block_hash == A


@pytest.mark.parametrize(("height", "round_", "step"), [
    (H, 1, STEP_PRECOMMIT), (H, 2, STEP_PROPOSAL), (H + 1, 0, STEP_PROPOSAL),
])
def test_the_guard_allows_higher_slots(height: int, round_: int, step: int) -> None:
    guard = guard_after(H, 1, STEP_PREVOTE, A)
    assert guard.authorize(height, round_, step, B) is None
    guard.record(SignedSlot(height, round_, step, B, b"next"))
    assert guard.last is not None and guard.last.slot == (height, round_, step)


def test_the_wal_replays_the_current_height_in_order() -> None:
    wal = MemoryWAL()
    wal.begin_height(3)
    wal.append(b"old")
    wal.begin_height(4)
    wal.append(b"first")
    wal.append(b"second", sync=True)
    assert (wal.height, list(wal.replay())) == (4, [b"first", b"second"])
