"""The oracle module: rounds, quorum, the median rule, outliers, staleness,
genesis round trip. Blocks run through the real vm; invariants after each."""

from __future__ import annotations

from typing import Any

import pytest
from chain_helpers import (
    ALICE,
    BLOCK_MS,
    BOB,
    CAROL,
    DAVE,
    FAUCET,
    Chain,
    account_entry,
    assert_genesis_round_trip,
    export_chain,
    make_genesis,
    query,
    send,
    start_chain,
)
from hypothesis import given
from hypothesis import strategies as st

from wattchain.crypto import PrivateKey
from wattchain.genesis import build_genesis_state
from wattchain.modules import build_vm
from wattchain.modules.oracle.rounds import compute_median, is_outlier
from wattchain.vm.execution import TxResult

ROUND_MS = 60_000
ORACLES = (ALICE, BOB, CAROL)


def oracle_chain(quorum: int = 1, **params: int) -> Chain:
    accounts = [account_entry(key, 10_000, ["oracle"]) for key in ORACLES]
    accounts.append(account_entry(DAVE, 10_000))
    genesis = make_genesis(accounts)
    genesis.app_state["oracle"] = {"params": {"quorum": quorum, **params}}
    return start_chain(genesis)


def current_round(chain: Chain) -> int:
    return (chain.time_ms + BLOCK_MS) // ROUND_MS  # the round of the next block


def submit(chain: Chain, key: PrivateKey, value: int, *, feed: str = "temperature",
           zone: str = "north", round_index: int | None = None) -> TxResult:
    round_index = current_round(chain) if round_index is None else round_index
    return send(chain, key, "oracle", "submit", feed, zone, round_index, value)


def events(result: TxResult, kind: str) -> list[dict[str, str]]:
    return [dict(event.attributes) for event in result.events if event.kind == kind]


def round_view(chain: Chain, round_index: int, feed: str = "temperature") -> Any:
    return query(chain, "oracle/round", feed=feed, zone="north", round=round_index)


def test_quorum_of_three_finalizes_with_the_median() -> None:
    chain = oracle_chain(quorum=3)
    round_index = current_round(chain)
    assert submit(chain, ALICE, 21_000).ok
    assert submit(chain, BOB, -1_500, round_index=round_index).ok
    assert round_view(chain, round_index)["finalized"] is False
    assert chain.vm.modules[-1].feeds.latest(  # type: ignore[attr-defined]
        chain.state, "temperature", "north", chain.time_ms, ROUND_MS) is None
    result = submit(chain, CAROL, 20_000, round_index=round_index)
    assert events(result, "finalized")[0]["value"] == "20000"
    view = round_view(chain, round_index)
    assert (view["finalized"], view["median"], len(view["submissions"])) == (True, 20_000, 3)
    feed = query(chain, "oracle/feed", feed="temperature", zone="north", now_ms=chain.time_ms)
    assert (feed["value"], feed["round"]) == (20_000, round_index)
    assert feed["age_ms"] == chain.time_ms - round_index * ROUND_MS


def test_even_count_takes_the_lower_middle_and_late_submissions_do_not_change_it() -> None:
    chain = oracle_chain(quorum=2)
    round_index = current_round(chain)
    submit(chain, ALICE, 400)
    submit(chain, BOB, 300, round_index=round_index)
    assert round_view(chain, round_index, "irradiance")["finalized"] is False  # other feed
    assert round_view(chain, round_index)["median"] == 300
    late = submit(chain, CAROL, 350, round_index=round_index)
    assert late.ok and not events(late, "finalized")
    view = round_view(chain, round_index)
    assert (view["median"], view["finalized_count"], len(view["submissions"])) == (300, 2, 3)


def test_second_submission_by_one_oracle_is_refused() -> None:
    chain = oracle_chain(quorum=2)
    round_index = current_round(chain)
    assert submit(chain, ALICE, 10).ok
    again = submit(chain, ALICE, 11, round_index=round_index)
    assert (again.codespace, again.code) == ("oracle", 105)
    assert len(round_view(chain, round_index)["submissions"]) == 1


def test_only_oracles_submit_and_the_admin_quorum_grants_the_role() -> None:
    chain = oracle_chain()
    refused = submit(chain, DAVE, 10)
    assert (refused.codespace, refused.code) == ("oracle", 101)
    assert send(chain, FAUCET, "accounts", "grant_role", DAVE.address, "oracle").ok
    assert submit(chain, DAVE, 10).ok


def test_future_and_too_old_rounds_are_refused() -> None:
    chain = oracle_chain(window_rounds=2)
    now = current_round(chain)
    future = submit(chain, ALICE, 10, round_index=now + 1)
    assert (future.codespace, future.code) == ("oracle", 103)
    old = submit(chain, ALICE, 10, round_index=current_round(chain) - 3)
    assert (old.codespace, old.code) == ("oracle", 104)
    assert submit(chain, ALICE, 10, round_index=current_round(chain) - 2).ok


def test_bad_arguments_are_typed_errors() -> None:
    chain = oracle_chain()
    assert submit(chain, ALICE, 10, feed="humidity").code == 102
    assert submit(chain, ALICE, 10, zone="no/slash").code == 12
    assert submit(chain, ALICE, 99_000, feed="grid_frequency").code == 106
    assert submit(chain, ALICE, -5, feed="irradiance").code == 106


def test_stale_value_is_refused_by_latest() -> None:
    chain = oracle_chain()
    round_index = current_round(chain)
    submit(chain, ALICE, 50_000, feed="grid_frequency")
    feeds = chain.vm.modules[-1].feeds  # type: ignore[attr-defined]
    start = round_index * ROUND_MS
    assert feeds.latest(chain.state, "grid_frequency", "north", start + 90_000, 90_000) == 50_000
    assert feeds.latest(chain.state, "grid_frequency", "north", start + 90_001, 90_000) is None
    assert feeds.latest(chain.state, "grid_frequency", "south", start, 90_000) is None


def test_an_older_round_finalized_late_does_not_replace_a_newer_value() -> None:
    chain = oracle_chain(quorum=2)
    first = current_round(chain)
    submit(chain, ALICE, 100, feed="emission_factor")
    chain.time_ms += ROUND_MS  # a quiet minute
    second = current_round(chain)
    submit(chain, ALICE, 200, feed="emission_factor")
    submit(chain, BOB, 210, feed="emission_factor", round_index=second)
    submit(chain, BOB, 110, feed="emission_factor", round_index=first)
    assert round_view(chain, first, "emission_factor")["median"] == 100
    latest = query(chain, "oracle/feed", feed="emission_factor", zone="north")
    assert (latest["value"], latest["round"]) == (200, second)


def test_outliers_are_reported() -> None:
    chain = oracle_chain(quorum=3, outlier_percent=20)
    round_index = current_round(chain)
    submit(chain, ALICE, 100_000, feed="wholesale_price")
    submit(chain, BOB, 104_000, feed="wholesale_price", round_index=round_index)
    result = submit(chain, CAROL, 200_000, feed="wholesale_price", round_index=round_index)
    outliers = events(result, "outlier")
    assert [(item["oracle"], item["value"], item["median"]) for item in outliers] == [
        ("0x" + CAROL.address.hex(), "200000", "104000")]


def test_genesis_export_import_round_trip() -> None:
    chain = oracle_chain(quorum=2, round_ms=ROUND_MS, outlier_percent=15)
    round_index = current_round(chain)
    submit(chain, ALICE, 7_000, feed="wind_speed")
    submit(chain, BOB, 9_000, feed="wind_speed", round_index=round_index)
    submit(chain, CAROL, 8_000, feed="wind_speed", round_index=round_index)
    submit(chain, ALICE, 30, feed="irradiance", zone="south")  # an open round
    section = assert_genesis_round_trip(chain).app_state["oracle"]
    assert section["params"]["outlier_percent"] == 15 and len(section["rounds"]) == 2


def test_genesis_refuses_a_wrong_median() -> None:
    chain = oracle_chain()
    submit(chain, ALICE, 7_000, feed="wind_speed")
    genesis = export_chain(chain)
    genesis.app_state["oracle"]["rounds"][0]["median"] = 1
    with pytest.raises(Exception, match="median"):
        build_genesis_state(build_vm(), genesis)


@given(st.lists(st.integers(-10**9, 10**9), min_size=1, max_size=30))
def test_median_is_a_member_with_the_published_rank(values: list[int]) -> None:
    median = compute_median(values)
    assert median in values
    below = sum(1 for value in values if value < median)
    at_most = sum(1 for value in values if value <= median)
    rank = (len(values) - 1) // 2  # 0-based index in sorted order
    assert below <= rank < at_most
    assert compute_median(list(reversed(values))) == median


def test_outlier_rule_is_relative_to_the_median() -> None:
    assert not is_outlier(120, 100, 20) and is_outlier(121, 100, 20)
    assert not is_outlier(-120, -100, 20) and is_outlier(-79, -100, 20)
    assert is_outlier(1, 0, 20) and not is_outlier(0, 0, 20)
