"""Deterministic simulations of the Tendermint core under faults.

hypothesis draws the fault schedules (derandomized: CI runs the same ones
every time); each run is fully determined by its config, which a failure
prints, so ``run_simulation(config)`` replays it exactly. Every run is
checked for agreement, validity, liveness after GST, evidence for every
equivocation an honest node saw, honest WAL replay and no honest double
signing. The last tests check the checker: a driver that ignores its lock,
and twins beyond f, must be caught breaking agreement.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from consensus_sim import (
    LEDGER,
    Partition,
    SimConfig,
    make_schedule,
    run_and_check,
    run_simulation,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wattchain.consensus.driver import Action, Driver
from wattchain.consensus.state_machine import Input, ProposalAndPolkaPrevious, ProposalInput

SIMULATION = settings(derandomize=True, database=None, deadline=None, print_blob=True,
                      suppress_health_check=list(HealthCheck))
KINDS = ("equivocate", "silent", "junk", "twin")
BULK: dict[int, int] = {}  # validators -> heights simulated by the bulk tests


@st.composite
def fault_schedules(draw: st.DrawFn, validators: int, heights: int) -> dict[str, Any]:
    """Parameters for ``make_schedule``: at most f faulty validators of any kind,
    partitions that heal, crashes, drops until GST, duplicates, slow links."""
    f = (validators - 1) // 3
    return {
        "validators": validators, "heights": heights,
        "seed": draw(st.integers(0, 2**32 - 1)),
        "faults": draw(st.lists(st.sampled_from(KINDS), max_size=f)),
        "partitions": draw(st.integers(0, 3)),
        "crashes": draw(st.integers(0, 2)),
        "drop_rate": draw(st.sampled_from([0.0, 0.05, 0.2, 0.4])),
        "duplicate_rate": draw(st.sampled_from([0.0, 0.1, 0.3])),
        "max_delay_ms": draw(st.sampled_from([20, 60, 150])),
    }


def run_bulk(params: dict[str, Any]) -> None:
    result = run_and_check(make_schedule(**params))
    BULK[result.config.validators] = BULK.get(result.config.validators, 0) + result.heights


@settings(SIMULATION, max_examples=55)
@given(params=fault_schedules(validators=4, heights=100))
def test_four_validators_under_faults(params: dict[str, Any]) -> None:
    run_bulk(params)


@settings(SIMULATION, max_examples=40)
@given(params=fault_schedules(validators=7, heights=80))
def test_seven_validators_under_faults(params: dict[str, Any]) -> None:
    run_bulk(params)


@settings(SIMULATION, max_examples=25)
@given(params=fault_schedules(validators=10, heights=80))
def test_ten_validators_under_faults(params: dict[str, Any]) -> None:
    run_bulk(params)


@settings(SIMULATION, max_examples=10)
@given(seed=st.integers(0, 2**32 - 1), kind=st.sampled_from(KINDS))
def test_weighted_power_with_faulty_power_below_a_third(seed: int, kind: str) -> None:
    # total 15: the faulty validator 3 and silent 0 hold 4 < 15 / 3
    config = make_schedule(7, 60, seed, faults=(kind, "silent"), faulty=(3, 0), partitions=1,
                           crashes=1, drop_rate=0.1, powers=(1, 2, 3, 3, 1, 2, 3))
    run_and_check(config)


@pytest.mark.parametrize("validators", [4, 7, 10])
@settings(SIMULATION, max_examples=4)
@given(seed=st.integers(0, 2**32 - 1), partitions=st.integers(2, 4))
def test_twins_within_f_keep_agreement(validators: int, seed: int, partitions: int) -> None:
    """f keys run as two nodes each, the copies on opposite sides of every
    partition: they double-sign freely, yet honest nodes never disagree."""
    f = (validators - 1) // 3
    result = run_and_check(make_schedule(validators, 40, seed, faults=("twin",) * f,
                                         partitions=partitions, max_delay_ms=60))
    assert result.evidence > 0  # the twins were caught double-signing


@pytest.mark.parametrize("validators", [4, 7])
def test_real_signatures(validators: int) -> None:
    """secp256k1 end to end: junk nodes forge signatures and sign as a stranger."""
    config = make_schedule(validators, 25, 7, faults=("junk",) * ((validators - 1) // 3),
                           partitions=1, crashes=1, drop_rate=0.1, real_signatures=True)
    result = run_and_check(config)
    assert result.counters["rejected"] > 0  # the forgeries were refused


def test_equivocations_become_evidence_and_crashes_replay_the_wal() -> None:
    result = run_and_check(make_schedule(4, 60, 11, faults=("equivocate",), crashes=3,
                                         partitions=1, drop_rate=0.1))
    assert result.evidence > 0
    assert result.counters["restarts"] == 3  # each replayed to the state it lost
    assert result.counters["sign refused"] > 0  # replay tried to re-sign old slots


def test_a_run_reproduces_from_its_config() -> None:
    config = make_schedule(7, 30, 2024, faults=("equivocate", "twin"), partitions=2,
                           crashes=1, drop_rate=0.2, duplicate_rate=0.1)
    first, second = run_simulation(config), run_simulation(config)
    assert (first.decisions, first.messages, first.end_ms, first.counters) == (
        second.decisions, second.messages, second.end_ms, second.counters)


def test_liveness_once_a_minority_partition_heals() -> None:
    """A partition with no quorum on either side halts everyone; after it
    heals every honest validator reaches the target height."""
    config = SimConfig(validators=4, heights=30, seed=3, partitions=(
        Partition(100, 5_000, ((0, 1), (2, 3))),))
    result = run_and_check(config)
    assert result.end_ms > 5_000


# -- checking the checker -------------------------------------------------------------


class LockIgnoringDriver(Driver):
    """A broken rule: L22 and L28 prevote a valid proposal even when locked on
    another value (the state machine sees itself unlocked for that one input)."""

    def _step(self, event: Input) -> list[Action] | None:
        if not isinstance(event, (ProposalInput, ProposalAndPolkaPrevious)):
            return super()._step(event)
        locked = self.state
        self.state = replace(locked, locked_round=-1, locked_value=None)
        actions = super()._step(event)
        self.state = replace(self.state, locked_round=locked.locked_round,
                             locked_value=locked.locked_value)
        return actions


# A Twins schedule (one key on two nodes, f = 1) found by searching seeds: with
# the lock ignored, two honest nodes decide different blocks at one height.
BROKEN_LOCK_SCHEDULE: dict[str, Any] = {
    "validators": 4, "heights": 30, "seed": 76, "faults": ("twin",), "partitions": 3,
    "drop_rate": 0.2, "max_delay_ms": 60}


def test_checker_flags_a_driver_that_ignores_the_lock() -> None:
    broken = run_simulation(make_schedule(**BROKEN_LOCK_SCHEDULE,
                                          driver_class=LockIgnoringDriver))
    assert any(v.startswith("agreement") for v in broken.violations), broken.violations
    sound = run_simulation(make_schedule(**BROKEN_LOCK_SCHEDULE))
    assert sound.violations == []


def test_checker_flags_twins_beyond_f() -> None:
    """Two of four keys doubled (faulty power 2 > f = 1): each side of the
    partition holds a quorum and commits its own block."""
    result = run_simulation(make_schedule(4, 20, 1, faults=("twin", "twin"), partitions=2))
    assert any(v.startswith("agreement") for v in result.violations), result.violations


def test_the_bulk_schedules_simulate_at_least_ten_thousand_heights() -> None:
    if set(BULK) != {4, 7, 10}:
        pytest.skip("run the whole file to total the simulated heights")
    assert sum(BULK.values()) >= 10_000, BULK
    assert sum(r.heights for results in LEDGER.values() for r in results) >= 10_000
