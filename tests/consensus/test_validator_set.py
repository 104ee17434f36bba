"""Validator sets: thresholds, the weighted round robin of proposers, the
weighted median and the BFT block time built on it."""

from __future__ import annotations

import functools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattchain.consensus.block_time import block_time_ms, commit_time_ms
from wattchain.consensus.validator_set import (
    ProposerSchedule,
    ValidatorInfo,
    ValidatorSet,
    weighted_median,
)
from wattchain.crypto import PrivateKey
from wattchain.types import Commit, CommitSig

PROPERTIES = settings(derandomize=True, database=None, deadline=None, max_examples=60)


@functools.cache
def key(index: int) -> PrivateKey:
    return PrivateKey((index + 1).to_bytes(32, "big"))


def validator_set(powers: list[int] | tuple[int, ...]) -> ValidatorSet:
    return ValidatorSet(ValidatorInfo(key(i).public_key, p) for i, p in enumerate(powers))


# -- membership and thresholds ------------------------------------------------------------


def test_a_set_needs_members_with_positive_power_and_no_duplicates() -> None:
    with pytest.raises(ValueError):
        ValidatorSet([])
    with pytest.raises(ValueError):
        validator_set([1, 0])
    with pytest.raises(ValueError):
        ValidatorSet([ValidatorInfo(key(0).public_key, 1)] * 2)


def test_power_of_a_stranger_is_zero_and_the_hash_ignores_input_order() -> None:
    members = [ValidatorInfo(key(i).public_key, i + 1) for i in range(4)]
    forward, backward = ValidatorSet(members), ValidatorSet(reversed(members))
    assert forward.power_of(key(9).address) == 0
    assert forward.power_of(key(2).address) == 3
    assert forward.hash() == backward.hash()
    assert forward.hash() != validator_set([1, 2, 3, 5]).hash()


# total power -> (largest power without a quorum, smallest with one); one third likewise
@pytest.mark.parametrize(("total", "no_quorum", "quorum", "no_third", "third"), [
    (1, 0, 1, 0, 1),
    (3, 2, 3, 1, 2),
    (4, 2, 3, 1, 2),  # 3f + 1 with f = 1: quorum 2f + 1, one third f + 1
    (6, 4, 5, 2, 3),
    (7, 4, 5, 2, 3),
    (10, 6, 7, 3, 4),
    (100, 66, 67, 33, 34),
])
def test_thresholds_at_their_exact_boundaries(total: int, no_quorum: int, quorum: int,
                                              no_third: int, third: int) -> None:
    validators = validator_set([total])
    assert not validators.has_quorum(no_quorum) and validators.has_quorum(quorum)
    assert not validators.has_one_third(no_third) and validators.has_one_third(third)


# -- proposer rotation --------------------------------------------------------------------

POWERS = st.lists(st.integers(1, 12), min_size=1, max_size=7)


@PROPERTIES
@given(powers=POWERS, window=st.integers(0, 3))
def test_each_validator_proposes_exactly_its_power_in_every_cycle(powers: list[int],
                                                                  window: int) -> None:
    validators = validator_set(powers)
    total = validators.total_power
    chosen = [validators.proposer_at_step(step) for step in
              range(window * total, (window + 1) * total)]
    assert {a: chosen.count(a) for a in set(chosen)} == {
        v.address: v.power for v in validators.validators}


@PROPERTIES
@given(powers=POWERS, seed=st.integers(0, 2**32 - 1))
def test_rotation_is_deterministic_across_instances_and_orders(powers: list[int],
                                                               seed: int) -> None:
    members = [ValidatorInfo(key(i).public_key, p) for i, p in enumerate(powers)]
    shuffled = list(members)
    random.Random(seed).shuffle(shuffled)
    first, second = ValidatorSet(members), ValidatorSet(shuffled)
    steps = range(3 * first.total_power)
    # the second instance answers out of order: the same sequence all the same
    late = {step: second.proposer_at_step(step) for step in reversed(steps)}
    assert [first.proposer_at_step(step) for step in steps] == [late[s] for s in steps]


def test_equal_powers_rotate_in_address_order_starting_from_the_lowest() -> None:
    validators = validator_set([1, 1, 1, 1])
    rotation = [validators.proposer_at_step(step) for step in range(8)]
    assert rotation == sorted(validators.addresses) * 2


def test_a_heavy_validator_is_spread_out_not_bunched() -> None:
    validators = validator_set([1, 1, 2])
    heavy = next(v.address for v in validators.validators if v.power == 2)
    rotation = [validators.proposer_at_step(step) for step in range(4)]
    assert rotation[0] == heavy and rotation.count(heavy) == 2 and rotation[1] != heavy


def test_the_schedule_moves_one_step_per_height_and_per_round() -> None:
    validators = validator_set([1, 2, 3])
    schedule = ProposerSchedule(validators, start_height=5)
    assert schedule.proposer(5, 0) == validators.proposer_at_step(0)
    assert schedule.proposer(7, 3) == validators.proposer_at_step(5)
    assert schedule.proposer(6, 0) == schedule.proposer(5, 1)
    with pytest.raises(ValueError):
        schedule.proposer(4, 0)
    with pytest.raises(ValueError):
        schedule.proposer(5, -1)


# -- weighted median and BFT time ---------------------------------------------------------

PAIRS = st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 50)), min_size=1, max_size=9)


@PROPERTIES
@given(pairs=PAIRS)
def test_the_weighted_median_splits_the_power_in_half(pairs: list[tuple[int, int]]) -> None:
    total = sum(power for _, power in pairs)
    median = weighted_median(pairs, total)
    assert median in {value for value, _ in pairs}
    assert 2 * sum(p for v, p in pairs if v < median) <= total
    assert 2 * sum(p for v, p in pairs if v <= median) > total


@PROPERTIES
@given(honest=PAIRS, faulty=PAIRS)
def test_a_minority_cannot_move_the_median_outside_the_majority(
        honest: list[tuple[int, int]], faulty: list[tuple[int, int]]) -> None:
    honest_power = sum(p for _, p in honest)
    faulty = [(value, power) for value, power in faulty]
    while sum(p for _, p in faulty) * 2 >= honest_power + sum(p for _, p in faulty) and faulty:
        faulty.pop()
    pairs = honest + faulty
    median = weighted_median(pairs, sum(p for _, p in pairs))
    assert min(v for v, _ in honest) <= median <= max(v for v, _ in honest)


def test_the_weighted_median_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError):
        weighted_median([], 0)


def commit_with(times: list[int]) -> Commit:
    return Commit(3, 0, b"\x01" * 32, [CommitSig(key(i).address, t, b"")
                                       for i, t in enumerate(times)])


def test_block_time_is_the_weighted_median_of_the_last_commit() -> None:
    validators = validator_set([1, 1, 5, 1])
    commit = commit_with([100, 900, 500, 10_000])
    assert commit_time_ms(commit, validators) == 500  # the heavy validator's vote
    stranger = Commit(3, 0, b"\x01" * 32, [CommitSig(key(9).address, 1, b"")])
    with pytest.raises(ValueError):
        commit_time_ms(stranger, validators)


def test_block_time_is_monotonic_and_starts_after_genesis() -> None:
    validators = validator_set([1, 1, 1])
    assert block_time_ms(None, validators, genesis_time_ms=1_000, previous_time_ms=0) == 1_001
    commit = commit_with([200, 300, 400])
    assert block_time_ms(commit, validators, 0, previous_time_ms=100) == 300
    assert block_time_ms(commit, validators, 0, previous_time_ms=300) == 301
