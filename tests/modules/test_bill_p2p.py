"""Peer-to-peer lines on bills: settled purchases and sales, the energy they
take off retail import and feed-in, penalties, pending trades, and bills that
anyone recomputes from query results with trades present."""

from __future__ import annotations

from typing import Any

from chain_helpers import (
    ALICE,
    BOB,
    CAROL,
    Chain,
    assert_genesis_round_trip,
    format_address,
    query,
    run_block,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from metering_helpers import ZONE, add_meter, met, q, reading, relay
from registration_helpers import DSO
from trading_helpers import ask, bid, market, next_interval, run_until, trade

from wattchain import codec
from wattchain.client.reports import fetch_trades, recompute_bill
from wattchain.modules.accounts import AccountsModule
from wattchain.modules.metering import MeteringModule, keys
from wattchain.modules.metering.billing import compute_bill
from wattchain.modules.metering.tariffs import Tariff
from wattchain.modules.metering.types import BUYER, SELLER, IntervalEnergy, TradeShare
from wattchain.modules.registration import RegistrationModule
from wattchain.vm.state import MemoryState

INTERVAL_MS = 60_000
DELAY_MS = 120_000  # default settlement delay
IMPORT_PRICE, EXPORT_PRICE = 300_000, 50_000
IMBALANCE_PRICE = 200_000


def lines_of(bill: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {line["kind"]: line for line in bill["lines"]}


def cli_recomputed(chain: Chain, bill: dict[str, Any]) -> dict[str, Any]:
    """What `wattchain bill verify` does: recompute from query results alone."""
    intervals = q(chain, "intervals", account=bill["account"], from_ms=bill["start_ms"],
                  to_ms=bill["end_ms"])["intervals"]
    versions = q(chain, "tariffs", zone_id=ZONE)["versions"]
    trades = query(chain, "trading/trades", account=bill["account"],
                   from_ms=bill["start_ms"], to_ms=bill["end_ms"])["trades"]
    return recompute_bill(bill, intervals, versions, trades)


def issue(chain: Chain, who: Any, start: int, end: int) -> dict[str, Any]:
    result = met(chain, who, "issue_bill", who.address, start, end)
    assert result.ok, result.log
    bill: dict[str, Any] = q(chain, "bill", account=format_address(who.address),
                             start_ms=start, end_ms=end)
    return bill


def verified(chain: Chain, bill: dict[str, Any]) -> bool:
    answer = q(chain, "verify_bill", account=bill["account"], start_ms=bill["start_ms"],
               end_ms=bill["end_ms"])
    return bool(answer["matches"]) and cli_recomputed(chain, bill) == bill


def scenario(sold_wh: int = 500, bought_wh: int = 400, alice_export_wh: int = 500,
             bob_export_wh: int = 300, alice_import: tuple[int, int] = (200, 1_000),
             grid_fee: int = 10_000) -> tuple[Chain, int, int, int]:
    """Alice sells ``sold_wh`` to Carol in interval one and buys ``bought_wh`` from Bob
    in interval two, under a flat tariff from ``tariff_from``; the meters read as given.
    Returns (chain, tariff_from, interval one, interval two), both still unsettled."""
    chain, solar, wind = market()
    tariff_from = next_interval(chain)
    result = met(chain, DSO, "set_tariff", ZONE, tariff_from, 0, [5, 6], [],
                 [["flat", IMPORT_PRICE, EXPORT_PRICE]], [[0] * 24] * 3, 0)
    assert result.ok, result.log
    assert trade(chain, DSO, "set_grid_fee", "north", grid_fee).ok
    assert trade(chain, DSO, "set_imbalance_price", "north", IMBALANCE_PRICE).ok
    for meter_id, meter_type, who, asset in (("M1", "consumption", CAROL, 0),
                                             ("M2", "consumption", ALICE, 0),
                                             ("PV1", "production", ALICE, solar),
                                             ("NET1", "production", BOB, wind)):
        add_meter(chain, meter_id, meter_type, account=who, asset_id=asset,
                  max_power_w=10**7)
    one = next_interval(chain)
    two = one + INTERVAL_MS
    assert bid(chain, CAROL, one, sold_wh, 100_000).ok
    assert ask(chain, ALICE, solar, one, sold_wh, 50_000).ok
    assert bid(chain, ALICE, two, bought_wh, 60_000).ok
    assert ask(chain, BOB, wind, two, bought_wh, 60_000).ok
    run_until(chain, two + INTERVAL_MS)
    end = two + INTERVAL_MS
    relay(chain, [reading("M1", 1, one, 0), reading("M1", 2, end, sold_wh),
                  reading("M2", 1, one, 0), reading("M2", 2, two, alice_import[0]),
                  reading("M2", 3, end, sum(alice_import)),
                  reading("PV1", 1, one, 0, 0), reading("PV1", 2, two, 0, alice_export_wh),
                  reading("PV1", 3, end, 0, alice_export_wh),
                  reading("NET1", 1, two, 0, 0), reading("NET1", 2, end, 0, bob_export_wh)])
    return chain, tariff_from, one, two


def settle(chain: Chain, two: int) -> None:
    run_until(chain, two + INTERVAL_MS + DELAY_MS)
    run_block(chain, [])


def test_a_bill_carries_settled_purchases_sales_and_penalties() -> None:
    chain, tariff_from, one, two = scenario()
    settle(chain, two)
    alice = format_address(ALICE.address)
    sale, purchase = sorted(query(chain, "trading/trades", account=alice)["trades"],
                            key=lambda t: t["interval_start"])
    assert sale["settled"] and purchase["settled"]
    assert (sale["delivered_wh"], purchase["delivered_wh"]) == (500, 300)
    bill = issue(chain, ALICE, tariff_from, two + INTERVAL_MS)
    lines = lines_of(bill)
    # retail import: 200 Wh in interval one, 1,000 - 300 delivered peer to peer in two
    assert lines["import"]["quantity"] == 200 + 700
    assert lines["import"]["amount"] == 900 * IMPORT_PRICE // 1000
    assert "export" not in lines  # all 500 Wh fed in were sold peer to peer
    assert bill["import_wh"] == 1_200 and bill["export_wh"] == 500  # metered, unchanged
    assert lines["p2p_purchases"]["quantity"] == 300
    assert lines["p2p_purchases"]["amount"] == purchase["paid"] + purchase["fee_paid"]
    assert purchase["fee_paid"] > 0
    assert lines["p2p_sales"] == {**lines["p2p_sales"], "quantity": 500,
                                  "amount": -sale["paid"]}
    # Bob delivered 300 of 400 Wh: Alice, the buyer, was credited the penalty
    assert purchase["penalty"] == 100 * (IMBALANCE_PRICE - 60_000) // 1000
    assert lines["p2p_penalties"]["amount"] == -purchase["penalty"]
    assert bill["total"] == sum(line["amount"] for line in bill["lines"])
    assert bill["p2p_trade_ids"] == sorted([sale["trade_id"], purchase["trade_id"]])
    assert bill["p2p_pending"] == 0
    assert verified(chain, bill)
    # Bob, the short seller, pays the penalty; his sale earns no feed-in credit
    bob = lines_of(issue(chain, BOB, tariff_from, two + INTERVAL_MS))
    assert bob["p2p_penalties"]["amount"] == purchase["penalty"]
    assert bob["p2p_sales"]["amount"] == -purchase["paid"] and "export" not in bob


def test_trades_unsettled_at_issue_stay_off_the_bill_and_it_still_verifies() -> None:
    chain, tariff_from, one, two = scenario()
    bill = issue(chain, BOB, tariff_from, two + INTERVAL_MS)
    assert bill["p2p_pending"] == 1 and bill["p2p_trade_ids"] == []
    lines = lines_of(bill)
    assert "p2p_sales" not in lines
    assert lines["export"]["quantity"] == 300  # nothing settled to take off
    settle(chain, two)
    assert query(chain, "trading/trades", account=bill["account"])["trades"][0]["settled"]
    assert verified(chain, bill)  # the trade settled later is on no bill


def test_bills_round_trip_through_genesis_old_and_new_records_alike() -> None:
    chain, tariff_from, _, two = scenario()
    settle(chain, two)
    issue(chain, ALICE, tariff_from, two + INTERVAL_MS)
    # a bill stored before trading joined: [zone, height, bill] without the p2p fields
    old = [ZONE, 1, [[["standing", tariff_from, "", INTERVAL_MS, 0, 0]], 0, 0, 0, 0]]
    chain.state.data[keys.bill_key(CAROL.address, tariff_from, one_after(tariff_from))] = \
        codec.encode(old)
    view = q(chain, "bill", account=format_address(CAROL.address), start_ms=tariff_from,
             end_ms=one_after(tariff_from))
    assert (view["p2p_trade_ids"], view["p2p_pending"], view["total"]) == ([], 0, 0)
    assert_genesis_round_trip(chain)


def one_after(start_ms: int) -> int:
    return start_ms + INTERVAL_MS


def test_bill_verify_pages_trades_by_halving_the_window() -> None:
    records = [{"trade_id": n, "interval_start": n * INTERVAL_MS} for n in range(10)]
    asked: list[tuple[int, int]] = []

    def fetch(path: str, account: str, from_ms: int, to_ms: int) -> dict[str, Any]:
        asked.append((from_ms, to_ms))
        found = [r for r in records if from_ms <= r["interval_start"] < to_ms]
        return {"trades": found[-3:], "truncated": len(found) > 3}

    found = fetch_trades(fetch, "0x00", 0, 10 * INTERVAL_MS)
    assert sorted(r["trade_id"] for r in found) == list(range(10)) and len(asked) > 1


def test_without_trades_attached_bills_have_no_peer_to_peer_lines() -> None:
    accounts = AccountsModule()
    metering = MeteringModule(roles=accounts.keeper,
                              registry=RegistrationModule(roles=accounts.keeper).registry)
    state = MemoryState()
    assert metering.billing.settled_trades(state, ALICE.address, 0, 1 << 62) == []
    assert metering.billing.pending_trades(state, ALICE.address, 0, 1 << 62) == 0
    shares = [TradeShare(1, 0, BUYER, 100, 9, 1, 0), TradeShare(2, 0, SELLER, 50, 4, 0, 3)]
    energy = [(0, IntervalEnergy(1_000, 80, 0))]
    assert compute_bill(0, INTERVAL_MS, energy, [])[0] == []
    lines, total, *_ = compute_bill(0, INTERVAL_MS, energy, [], shares)
    assert [line[0] for line in lines] == ["p2p_purchases", "p2p_sales", "p2p_penalties"]
    assert total == 10 - 4 + 3


@st.composite
def shares_and_energy(draw: Any) -> tuple[list[tuple[int, IntervalEnergy]], list[TradeShare]]:
    starts = range(0, 6 * INTERVAL_MS, INTERVAL_MS)
    energy = [(s, IntervalEnergy(draw(st.integers(0, 2_000)), draw(st.integers(0, 2_000)), 0))
              for s in starts]
    shares = [TradeShare(index, draw(st.sampled_from(starts)),
                         draw(st.sampled_from([BUYER, SELLER])), draw(st.integers(0, 3_000)),
                         draw(st.integers(0, 10**6)), draw(st.integers(0, 10**4)),
                         draw(st.integers(0, 10**4)))
              for index in range(draw(st.integers(0, 8)))]
    return energy, shares


@given(shares_and_energy())
def test_peer_to_peer_energy_comes_off_retail_energy_never_below_zero(
        case: tuple[list[tuple[int, IntervalEnergy]], list[TradeShare]]) -> None:
    energy, shares = case
    tariff = Tariff(b"\0" * 20, 0, [5, 6], [], [["flat", IMPORT_PRICE, EXPORT_PRICE]],
                    [[0] * 24] * 3, 0)
    lines, total, *_ = compute_bill(0, 6 * INTERVAL_MS, energy, [(0, tariff)], shares)
    kinds = {line[0]: line for line in lines}
    bought = {s: sum(t.delivered_wh for t in shares if t.role == BUYER
                     and t.interval_start == s) for s, _ in energy}
    sold = {s: sum(t.delivered_wh for t in shares if t.role == SELLER
                   and t.interval_start == s) for s, _ in energy}
    retail_import = sum(max(0, e.import_wh - bought[s]) for s, e in energy)
    retail_export = sum(max(0, e.export_wh - sold[s]) for s, e in energy)
    assert kinds.get("import", [0] * 6)[3] == retail_import
    assert kinds.get("export", [0] * 6)[3] == retail_export
    assert total == sum(line[5] for line in lines)
    assert kinds.get("p2p_purchases", [0] * 6)[5] == sum(t.paid + t.fee_paid for t in shares
                                                          if t.role == BUYER)
    assert kinds.get("p2p_sales", [0] * 6)[5] == -sum(t.paid for t in shares
                                                       if t.role == SELLER)


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.integers(1, 800), st.integers(1, 800), st.integers(0, 800), st.integers(0, 800),
       st.tuples(st.integers(0, 900), st.integers(0, 900)), st.integers(0, 2),
       st.booleans())
def test_a_recomputed_bill_equals_the_stored_one_with_trades(
        sold: int, bought: int, alice_export: int, bob_export: int,
        alice_import: tuple[int, int], trim: int, settled_first: bool) -> None:
    chain, tariff_from, one, two = scenario(sold, bought, alice_export, bob_export,
                                            alice_import)
    if settled_first:
        settle(chain, two)
    start = [tariff_from, one, two][trim]
    bills = [issue(chain, who, start, two + INTERVAL_MS) for who in (ALICE, BOB, CAROL)]
    if not settled_first:
        settle(chain, two)
    for bill in bills:
        assert bill["total"] == sum(line["amount"] for line in bill["lines"])
        assert verified(chain, bill)
