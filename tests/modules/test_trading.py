"""The trading module: orders, escrow, gate closure clearing, trades, history."""

from __future__ import annotations

from chain_helpers import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    assert_genesis_round_trip,
    query,
)
from registration_helpers import DSO
from trading_helpers import (
    INTERVAL_MS,
    ask,
    balance,
    bid,
    market,
    next_interval,
    run_until,
    trade,
)

from wattchain.crypto import PrivateKey
from wattchain.modules.trading.types import ESCROW_ACCOUNT


def test_book_clears_at_gate_closure_with_escrow_and_refunds() -> None:
    chain, solar, wind = market()
    interval = next_interval(chain)
    carol_before = balance(chain, CAROL.address)
    assert bid(chain, CAROL, interval, 600, 120_000).ok  # 0.12 token per kWh
    assert bid(chain, DAVE, interval, 500, 90_000).ok
    assert ask(chain, ALICE, solar, interval, 400, 50_000).ok
    assert ask(chain, BOB, wind, interval, 800, 80_000).ok
    escrowed = balance(chain, ESCROW_ACCOUNT)
    assert escrowed == 600 * 120_000 // 1000 + 500 * 90_000 // 1000
    run_until(chain, interval - 60_000)  # the gate closes a minute before delivery
    clearing = query(chain, "trading/clearing", zone="north", interval_start=interval)
    # supply 1,200 Wh at <= 80,000; demand 1,100 Wh at >= 90,000: all 1,100 Wh trade
    assert clearing["volume_wh"] == 1_100
    assert clearing["price"] == (90_000 + 80_000) // 2
    trades = query(chain, "trading/trades", zone="north")["trades"]
    assert sum(t["energy_wh"] for t in trades) == 1_100
    assert all(t["price"] == 85_000 for t in trades)
    carol_cost = sum(t["cost"] for t in trades if t["buyer"] == "0x" + CAROL.address.hex())
    fees = 10 * 1  # one tx fee paid by carol
    assert balance(chain, CAROL.address) == carol_before - carol_cost - fees
    owed = sum(t["cost"] + t["grid_fee"] for t in trades)
    assert balance(chain, ESCROW_ACCOUNT) == owed  # obligations wait for settlement
    statuses = {o["order_id"]: o["status"] for o in query(
        chain, "trading/orders", owner="0x" + BOB.address.hex())["orders"]}
    assert list(statuses.values()) == ["closed"]  # 100 Wh of Bob's offer did not sell


def test_renewable_only_bids_buy_only_certified_energy() -> None:
    chain, solar, wind = market()
    interval = next_interval(chain)
    assert bid(chain, CAROL, interval, 300, 100_000, renewable=1).ok
    assert ask(chain, BOB, wind, interval, 500, 10_000).ok  # cheap, but not certified
    assert ask(chain, ALICE, solar, interval, 200, 60_000).ok
    run_until(chain, interval - 60_000)
    trades = query(chain, "trading/trades", account="0x" + CAROL.address.hex())["trades"]
    assert [(t["seller"], t["energy_wh"]) for t in trades] == [("0x" + ALICE.address.hex(), 200)]
    clearing = query(chain, "trading/clearing", zone="north", interval_start=interval)
    assert clearing["renewable_price"] == 80_000 and clearing["price"] is None


def test_counterparty_orders_match_bilaterally() -> None:
    chain, solar, wind = market()
    interval = next_interval(chain)
    assert bid(chain, CAROL, interval, 100, 70_000, counterparty=ALICE.address).ok
    assert ask(chain, BOB, wind, interval, 100, 1_000).ok  # cheaper, but not Alice
    assert ask(chain, ALICE, solar, interval, 100, 50_000).ok
    run_until(chain, interval - 60_000)
    (only,) = query(chain, "trading/trades", account="0x" + CAROL.address.hex())["trades"]
    assert only["seller"] == "0x" + ALICE.address.hex() and only["price"] == 60_000


def test_refusals_change_nothing() -> None:
    chain, solar, wind = market()
    interval = next_interval(chain)
    before = {k: v for k, v in chain.state.data.items()
              if k.startswith((b"trd/", b"acc/a/"))}
    cases = [
        ask(chain, ALICE, wind, interval, 10, 1),  # not her asset
        ask(chain, ALICE, solar, interval, 5_000, 1),  # over the asset's capacity
        bid(chain, CAROL, interval + 1, 10, 1),  # not an interval boundary
        bid(chain, CAROL, chain.time_ms // INTERVAL_MS * INTERVAL_MS, 10, 1),  # gate closed
        trade(chain, CAROL, "place_order", "hold", "north", interval, 1, 1, 0, 0, b"", 0),
        bid(chain, PrivateKey(b"\x66" * 32), interval, 10, 1),  # cannot pay the fee: invalid
        trade(chain, CAROL, "cancel_order", 999),
        trade(chain, CAROL, "set_grid_fee", "north", 5),  # not the zone's DSO
    ]
    assert all(not r.ok for r in cases), [(r.codespace, r.code, r.log) for r in cases]
    after = {k: v for k, v in chain.state.data.items() if k.startswith((b"trd/", b"acc/a/"))}
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    # only fee payers' accounts (fee and nonce) changed
    assert all(k.startswith(b"acc/a/") for k in changed)


def test_cancel_and_reduce_release_escrow_and_capacity() -> None:
    chain, solar, _ = market()
    interval = next_interval(chain)
    start = balance(chain, CAROL.address)
    assert bid(chain, CAROL, interval, 1_000, 100_000).ok
    (order,) = query(chain, "trading/orders", owner="0x" + CAROL.address.hex())["orders"]
    assert trade(chain, CAROL, "reduce_order", order["order_id"], 400).ok
    assert balance(chain, ESCROW_ACCOUNT) == 400 * 100
    assert trade(chain, CAROL, "cancel_order", order["order_id"]).ok
    assert balance(chain, ESCROW_ACCOUNT) == 0
    assert balance(chain, CAROL.address) == start - 3 * 10  # three tx fees, nothing else
    assert ask(chain, ALICE, solar, interval, 1_000, 1).ok  # the whole interval's capacity
    assert not ask(chain, ALICE, solar, interval, 1, 1).ok
    (offer,) = query(chain, "trading/orders", owner="0x" + ALICE.address.hex())["orders"]
    assert trade(chain, ALICE, "cancel_order", offer["order_id"]).ok
    assert ask(chain, ALICE, solar, interval, 1_000, 1).ok  # capacity released


def test_grid_fee_and_price_band_are_the_dsos() -> None:
    chain, solar, _ = market()
    interval = next_interval(chain)
    assert trade(chain, DSO, "set_grid_fee", "north", 20_000).ok
    assert trade(chain, DSO, "set_price_band", "north", 10_000, 200_000).ok
    assert not bid(chain, CAROL, interval, 100, 300_000).ok  # above the ceiling
    assert bid(chain, CAROL, interval, 100, 100_000).ok
    assert balance(chain, ESCROW_ACCOUNT) == 100 * (100_000 + 20_000) // 1000
    assert ask(chain, ALICE, solar, interval, 100, 50_000).ok
    run_until(chain, interval - 60_000)
    (only,) = query(chain, "trading/trades", zone="north")["trades"]
    assert only["grid_fee"] == 100 * 20_000 // 1000 and only["price"] == 75_000


def test_export_import_round_trips_the_market() -> None:
    chain, solar, _ = market()
    interval = next_interval(chain)
    assert bid(chain, CAROL, interval, 300, 100_000).ok
    assert ask(chain, ALICE, solar, interval, 200, 50_000).ok
    run_until(chain, interval - 60_000)
    assert bid(chain, CAROL, interval + INTERVAL_MS, 50, 100_000).ok  # one open order too
    assert_genesis_round_trip(chain)


def test_money_is_conserved_through_random_orders_and_clearings() -> None:
    """Random bids, asks, cancels and clearings: every block keeps supply ==
    balances + fee pool and escrow == locks + obligations (run_block checks)."""
    import random

    rng = random.Random(11)
    chain, solar, wind = market()
    supply = query(chain, "accounts/supply")["supply"]
    buyers = [CAROL, DAVE]
    sellers = [(ALICE, solar), (BOB, wind)]
    for _ in range(3):
        interval = next_interval(chain)
        for _ in range(12):
            roll = rng.random()
            if roll < 0.45:
                bid(chain, rng.choice(buyers), interval, rng.randint(1, 400),
                    rng.randint(0, 200_000), renewable=rng.randint(0, 1))
            elif roll < 0.85:
                who, asset = rng.choice(sellers)
                ask(chain, who, asset, interval, rng.randint(1, 300), rng.randint(0, 200_000))
            else:
                who = rng.choice(buyers)
                mine = query(chain, "trading/orders", owner="0x" + who.address.hex())["orders"]
                if mine:
                    trade(chain, who, "cancel_order", rng.choice(mine)["order_id"])
        run_until(chain, interval - 60_000)
        assert query(chain, "accounts/supply")["supply"] == supply
    assert query(chain, "trading/clearings", zone="north")["clearings"]


def test_continuous_mode_matches_on_arrival_by_price_time_priority() -> None:
    chain, solar, wind = market()
    interval = next_interval(chain)
    assert trade(chain, DSO, "set_market_mode", "north", "continuous").ok
    assert ask(chain, BOB, wind, interval, 300, 70_000).ok
    assert ask(chain, ALICE, solar, interval, 300, 60_000).ok  # better price
    assert ask(chain, BOB, wind, interval, 100, 60_000).ok  # same price, later
    result = bid(chain, CAROL, interval, 500, 80_000)
    assert result.ok
    trades = [e for e in result.events if e.kind == "trade"]
    fills = [(dict(e.attributes)["seller"], dict(e.attributes)["energy_wh"],
              dict(e.attributes)["price"]) for e in trades]
    alice, bob = "0x" + ALICE.address.hex(), "0x" + BOB.address.hex()
    # at the resting prices: Alice's 60,000 first, then Bob's 60,000, then Bob's 70,000
    assert fills == [(alice, "300", "60000"), (bob, "100", "60000"), (bob, "100", "70000")]
    (order,) = query(chain, "trading/orders", owner="0x" + CAROL.address.hex())["orders"]
    assert order["status"] == "filled" and order["escrow"] == 0
    run_until(chain, interval - 60_000)  # at the gate, Bob's 200 Wh left simply close
    bob_orders = query(chain, "trading/orders", owner=bob)["orders"]
    assert sorted(o["status"] for o in bob_orders) == ["closed", "filled"]


def test_cross_zone_trades_stay_within_the_interconnection_capacity() -> None:
    from registration_helpers import OTHER_DSO, setup_zone

    chain, solar, _ = market()
    setup_zone(chain, hosting_w=500_000, zone="south", dso=OTHER_DSO)
    # only the exporting zone's DSO opens a link out of its zone
    assert not trade(chain, OTHER_DSO, "set_interconnection", "north", "south", 1, 1).ok
    assert trade(chain, DSO, "set_interconnection", "north", "south", 30_000, 5_000).ok
    interval = next_interval(chain)
    assert trade(chain, CAROL, "place_order", "buy", "south", interval, 800, 100_000, 0, 0,
                 b"", 0).ok
    assert ask(chain, ALICE, solar, interval, 1_000, 40_000).ok
    run_until(chain, interval - 60_000)
    (only,) = query(chain, "trading/trades", zone="south")["trades"]
    # 30 kW for one minute = 500 Wh; effective bid 100,000 - 5,000 fee; offer 40,000
    assert only["energy_wh"] == 500 and only["price"] == (95_000 + 40_000) // 2
    assert only["grid_fee"] == 500 * 5_000 // 1000
    offer = query(chain, "trading/orders", owner="0x" + ALICE.address.hex())["orders"][0]
    assert (offer["remaining_wh"], offer["status"]) == (500, "closed")
