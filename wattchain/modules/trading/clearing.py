"""Uniform-price double auction for one order book (zone, delivery interval).

``clear(bids, offers)`` is a pure, deterministic, integer-only function:

1. Bids are taken by price descending, offers by price ascending (ties by
   ascending order id). Walking both, the cleared volume is the largest
   volume at which the marginal bid price is at least the marginal offer
   price: no other volume trades more energy among willing parties.
2. The clearing price is the floor of the midpoint of the marginal bid and
   marginal offer prices; every fill is at that one price, so no buyer pays
   above its limit and no seller receives below its limit.
3. Every bid priced above the marginal bid price, and every offer priced
   below the marginal offer price, is filled in full. Orders *at* a marginal
   price share what is left of the volume pro rata by quantity: each gets
   ``floor(left * quantity / total)``, and the integer remainder goes one Wh
   at a time to the orders whose exact share had a fraction, in ascending
   order id (the published rounding rule).
4. Allocated bids and offers are paired in the same priority orders into
   fills (at most len(bids) + len(offers) of them).

Sorting dominates: O(n log n). Prices are micro-units per kWh, quantities Wh.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Order:
    order_id: int
    price: int
    quantity: int


@dataclass(frozen=True, slots=True)
class Fill:
    bid_id: int
    offer_id: int
    quantity: int
    price: int


@dataclass(slots=True)
class ClearingResult:
    price: int | None
    volume: int
    fills: list[Fill] = field(default_factory=list)


class InvalidOrder(ValueError):
    """An order with a non-positive quantity, a negative price or a reused id."""


def clear(bids: Sequence[Order], offers: Sequence[Order]) -> ClearingResult:
    _check(bids, offers)
    bids_sorted = sorted(bids, key=lambda o: (-o.price, o.order_id))
    offers_sorted = sorted(offers, key=lambda o: (o.price, o.order_id))
    volume, marginal_bid, marginal_offer = _cleared_volume(bids_sorted, offers_sorted)
    if volume == 0:
        return ClearingResult(None, 0, [])
    price = (marginal_bid + marginal_offer) // 2
    bid_fills = _allocate(bids_sorted, volume, lambda o: o.price > marginal_bid,
                          lambda o: o.price == marginal_bid)
    offer_fills = _allocate(offers_sorted, volume, lambda o: o.price < marginal_offer,
                            lambda o: o.price == marginal_offer)
    return ClearingResult(price, volume, _pair(bid_fills, offer_fills, price))


def _check(bids: Sequence[Order], offers: Sequence[Order]) -> None:
    seen: set[int] = set()
    for order in (*bids, *offers):
        if type(order.quantity) is not int or order.quantity <= 0:
            raise InvalidOrder(f"order {order.order_id}: quantity must be a positive integer")
        if type(order.price) is not int or order.price < 0:
            raise InvalidOrder(f"order {order.order_id}: price must be a non-negative integer")
        if order.order_id in seen:
            raise InvalidOrder(f"order id {order.order_id} appears twice")
        seen.add(order.order_id)


def _cleared_volume(bids: list[Order], offers: list[Order]) -> tuple[int, int, int]:
    """Greedy walk of the two curves: (volume, marginal bid price, marginal offer price)."""
    volume = 0
    marginal_bid = marginal_offer = 0
    i = j = 0
    bid_left = bids[0].quantity if bids else 0
    offer_left = offers[0].quantity if offers else 0
    while i < len(bids) and j < len(offers) and bids[i].price >= offers[j].price:
        traded = min(bid_left, offer_left)
        volume += traded
        marginal_bid, marginal_offer = bids[i].price, offers[j].price
        bid_left -= traded
        offer_left -= traded
        if bid_left == 0:
            i += 1
            bid_left = bids[i].quantity if i < len(bids) else 0
        if offer_left == 0:
            j += 1
            offer_left = offers[j].quantity if j < len(offers) else 0
    return volume, marginal_bid, marginal_offer


def _allocate(orders: list[Order], volume: int, is_inside: Callable[[Order], bool],
              is_marginal: Callable[[Order], bool]) -> list[tuple[int, int]]:
    """(order id, quantity) per filled order, in priority order."""
    inside = [o for o in orders if is_inside(o)]
    marginal = [o for o in orders if is_marginal(o)]
    left = volume - sum(o.quantity for o in inside)
    shares = pro_rata({o.order_id: o.quantity for o in marginal}, left)
    return [(o.order_id, o.quantity) for o in inside] + [
        (o.order_id, shares[o.order_id]) for o in marginal if shares[o.order_id] > 0]


def pro_rata(quantities: dict[int, int], amount: int) -> dict[int, int]:
    """Share ``amount`` over ids in proportion to their quantities (published rule).

    Each id gets ``floor(amount * quantity / total)``; the integer remainder
    goes one unit at a time to the ids whose exact share had a fraction, in
    ascending id order. No id gets more than its quantity.
    """
    total = sum(quantities.values())
    if amount >= total:
        return dict(quantities)
    shares = {key: amount * quantity // total for key, quantity in quantities.items()}
    remainder = amount - sum(shares.values())
    fractional = sorted(key for key, quantity in quantities.items() if amount * quantity % total)
    for key in fractional[:remainder]:
        shares[key] += 1
    return shares


def _pair(bids: list[tuple[int, int]], offers: list[tuple[int, int]], price: int) -> list[Fill]:
    fills: list[Fill] = []
    i = j = 0
    bid_left = bids[0][1] if bids else 0
    offer_left = offers[0][1] if offers else 0
    while i < len(bids) and j < len(offers):
        traded = min(bid_left, offer_left)
        fills.append(Fill(bids[i][0], offers[j][0], traded, price))
        bid_left -= traded
        offer_left -= traded
        if bid_left == 0:
            i += 1
            bid_left = bids[i][1] if i < len(bids) else 0
        if offer_left == 0:
            j += 1
            offer_left = offers[j][1] if j < len(offers) else 0
    return fills
