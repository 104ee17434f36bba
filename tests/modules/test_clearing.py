"""Properties of the uniform-price double auction (modules/trading/clearing.py)."""

from __future__ import annotations

import random
import time
from bisect import bisect_left, bisect_right
from itertools import accumulate

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattchain.modules.trading.clearing import ClearingResult, InvalidOrder, Order, clear

prices = st.integers(min_value=0, max_value=300)
quantities = st.integers(min_value=1, max_value=50)


@st.composite
def books(draw: st.DrawFn) -> tuple[list[Order], list[Order]]:
    bid_specs = draw(st.lists(st.tuples(prices, quantities), max_size=25))
    offer_specs = draw(st.lists(st.tuples(prices, quantities), max_size=25))
    ids = draw(st.permutations(range(len(bid_specs) + len(offer_specs))))
    bids = [Order(ids[i], p, q) for i, (p, q) in enumerate(bid_specs)]
    offers = [Order(ids[len(bid_specs) + i], p, q) for i, (p, q) in enumerate(offer_specs)]
    return bids, offers


def best_volume(bids: list[Order], offers: list[Order]) -> int:
    """Brute force: the most energy tradeable at any single price."""
    candidates = {o.price for o in bids + offers}
    return max((min(sum(b.quantity for b in bids if b.price >= p),
                    sum(o.quantity for o in offers if o.price <= p)) for p in candidates),
               default=0)


def filled(result: ClearingResult, side: str) -> dict[int, int]:
    totals: dict[int, int] = {}
    for fill in result.fills:
        key = fill.bid_id if side == "bid" else fill.offer_id
        totals[key] = totals.get(key, 0) + fill.quantity
    return totals


@settings(max_examples=300, derandomize=True, deadline=None)
@given(books())
def test_clearing_properties(book: tuple[list[Order], list[Order]]) -> None:
    bids, offers = book
    result = clear(bids, offers)
    assert result.volume == best_volume(bids, offers)  # volume maximal
    assert sum(f.quantity for f in result.fills) == result.volume  # fills sum to the volume
    if result.volume == 0:
        assert result.price is None and result.fills == []
        return
    assert result.price is not None
    by_bid, by_offer = filled(result, "bid"), filled(result, "offer")
    bid_of = {o.order_id: o for o in bids}
    offer_of = {o.order_id: o for o in offers}
    for order_id, quantity in by_bid.items():  # no overfill, limits respected
        assert 0 < quantity <= bid_of[order_id].quantity
        assert bid_of[order_id].price >= result.price
    for order_id, quantity in by_offer.items():
        assert 0 < quantity <= offer_of[order_id].quantity
        assert offer_of[order_id].price <= result.price
    marginal_bid = min(bid_of[i].price for i in by_bid)
    marginal_offer = max(offer_of[i].price for i in by_offer)
    assert marginal_offer <= result.price <= marginal_bid  # between the marginal prices
    assert result.price == (marginal_bid + marginal_offer) // 2
    for order in bids:  # strictly better than marginal: filled in full
        if order.price > marginal_bid:
            assert by_bid.get(order.order_id) == order.quantity
    for order in offers:
        if order.price < marginal_offer:
            assert by_offer.get(order.order_id) == order.quantity
    assert all(f.price == result.price for f in result.fills)


@settings(max_examples=100, derandomize=True, deadline=None)
@given(books(), st.randoms(use_true_random=False))
def test_result_is_independent_of_input_order(book: tuple[list[Order], list[Order]],
                                              rng: random.Random) -> None:
    bids, offers = book
    shuffled_bids, shuffled_offers = bids[:], offers[:]
    rng.shuffle(shuffled_bids)
    rng.shuffle(shuffled_offers)
    assert clear(bids, offers) == clear(shuffled_bids, shuffled_offers)


def test_no_cross_and_empty_sides() -> None:
    assert clear([Order(1, 10, 5)], [Order(2, 11, 5)]) == ClearingResult(None, 0, [])
    assert clear([], [Order(2, 11, 5)]) == ClearingResult(None, 0, [])
    assert clear([Order(1, 10, 5)], []) == ClearingResult(None, 0, [])
    assert clear([], []) == ClearingResult(None, 0, [])


def test_all_orders_at_one_price_share_pro_rata_with_published_remainder_rule() -> None:
    bids = [Order(5, 100, 3), Order(2, 100, 3), Order(9, 100, 3)]  # 9 Wh wanted
    offers = [Order(20, 100, 7)]  # 7 Wh offered
    result = clear(bids, offers)
    assert result.price == 100 and result.volume == 7
    shares = filled(result, "bid")
    # exact shares are 7/3 each: 2 each, and the 1 Wh remainder goes to the lowest id
    assert shares == {2: 3, 5: 2, 9: 2}


def test_marginal_offer_is_partially_filled_at_the_midpoint() -> None:
    bids = [Order(1, 120, 10), Order(2, 90, 10)]
    offers = [Order(3, 50, 8), Order(4, 80, 8)]
    result = clear(bids, offers)
    # 16 Wh offered at <= 90, 20 wanted at >= 80: volume 16, marginal bid 90, offer 80
    assert result.volume == 16 and result.price == 85
    assert filled(result, "bid") == {1: 10, 2: 6}
    assert filled(result, "offer") == {3: 8, 4: 8}


def test_invalid_orders_are_refused() -> None:
    with pytest.raises(InvalidOrder):
        clear([Order(1, 10, 0)], [])
    with pytest.raises(InvalidOrder):
        clear([Order(1, -1, 5)], [])
    with pytest.raises(InvalidOrder):
        clear([Order(1, 10, 5)], [Order(1, 9, 5)])


def test_huge_book_clears() -> None:
    rng = random.Random(7)
    bids = [Order(i, rng.randint(50_000, 150_000), rng.randint(100, 5_000))
            for i in range(50_000)]
    offers = [Order(50_000 + i, rng.randint(40_000, 140_000), rng.randint(100, 5_000))
              for i in range(50_000)]
    started = time.perf_counter()
    result = clear(bids, offers)
    elapsed = time.perf_counter() - started
    assert result.volume == fast_best_volume(bids, offers) > 0
    assert sum(f.quantity for f in result.fills) == result.volume
    print(f"cleared 100,000 orders in {elapsed:.3f} s")  # a figure, not a timed assertion


def fast_best_volume(bids: list[Order], offers: list[Order]) -> int:
    """best_volume in O(n log n): cumulative demand and supply at every order price."""
    bid_prices = sorted(b.price for b in bids)
    offer_prices = sorted(o.price for o in offers)
    bid_cumulative = list(accumulate(b.quantity for b in sorted(bids, key=lambda b: b.price)))
    offer_cumulative = list(accumulate(o.quantity for o in sorted(offers, key=lambda o: o.price)))
    best = 0
    for price in set(bid_prices) | set(offer_prices):
        below = bisect_left(bid_prices, price)
        demand = bid_cumulative[-1] - (bid_cumulative[below - 1] if below else 0)
        upto = bisect_right(offer_prices, price)
        supply = offer_cumulative[upto - 1] if upto else 0
        best = max(best, min(demand, supply))
    return best
