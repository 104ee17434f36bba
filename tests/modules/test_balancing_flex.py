"""Flexibility, dispatch, emergencies and resilience of the balancing module.

The published rules first (merit order, state of charge, the emergency state
machine), then dispatch and payment against the fakes of ``test_balancing``,
then the whole path through the vm: a battery offered for dispatch, an
emergency suspending the zone's market, and money conserved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chain_helpers import (
    CAROL,
    Chain,
    assert_genesis_round_trip,
    make_genesis,
    query,
    start_chain,
)
from hypothesis import given
from hypothesis import strategies as st
from metering_helpers import add_meter, metering_accounts, reading, relay, send
from registration_helpers import (
    ALICE,
    DSO,
    OTHER_DSO,
    ZONE,
    activate,
    add_asset,
    setup_producer,
    setup_zone,
)
from test_balancing import DAY0, INTERVAL_MS, Bench, ask, bench, end_block
from trading_helpers import run_until

from wattchain.modules.balancing import emergency as rules
from wattchain.modules.balancing import errors
from wattchain.modules.balancing.flex import (
    Offer,
    down_capacity,
    follow_meter,
    merit_order,
    up_capacity,
)
from wattchain.modules.balancing.forecast import compute_wind, wind_per_mille
from wattchain.modules.balancing.types import (
    BalancingParams,
    Emergency,
    FlexAsset,
    Forecast,
)
from wattchain.modules.trading import errors as trading_errors
from wattchain.modules.trading.types import ESCROW_ACCOUNT
from wattchain.vm.interface import Context
from wattchain.vm.params import ChainParams
from wattchain.vm.state import Overlay

OWNER = b"\7" * 20
NORTH_DSO = b"\1" * 20


# -- the published rules ------------------------------------------------------------------

offers_strategy = st.lists(
    st.tuples(st.integers(0, 500_000), st.integers(0, 20_000)), min_size=0, max_size=12)


@given(offers_strategy, st.integers(0, 100_000))
def test_merit_order_takes_the_cheapest_first_within_limits(raw: list[tuple[int, int]],
                                                            need: int) -> None:
    offers = [Offer(index + 1, price, energy) for index, (price, energy) in enumerate(raw)]
    taken, marginal = merit_order(offers, need)
    total = sum(energy for _, energy in taken)
    assert total == min(need, sum(o.energy_wh for o in offers))
    assert all(0 < energy <= offer.energy_wh for offer, energy in taken)
    assert marginal == (max(o.price for o, _ in taken) if taken else -1)
    used = {offer.asset_id: energy for offer, energy in taken}
    for offer in offers:  # anything cheaper than a taken offer was taken in full
        if offer.energy_wh and used.get(offer.asset_id, 0) < offer.energy_wh:
            assert all((o.price, o.asset_id) < (offer.price, offer.asset_id)
                       for o, _ in taken) or total == need


def battery(soc: int = 50_000, energy: int = 100_000, reserve: int = 20_000,
            efficiency: int = 900, charge_w: int = 40_000, discharge_w: int = 40_000) -> FlexAsset:
    return FlexAsset(OWNER, "storage", "north", "B1", energy, charge_w, discharge_w, efficiency,
                     reserve, soc, 100_000, 20_000, 3)


@given(st.integers(0, 100_000), st.integers(0, 100_000), st.integers(1, 1_000),
       st.integers(0, 200_000), st.integers(0, 200_000), st.booleans())
def test_state_of_charge_never_leaves_its_bounds(soc: int, reserve: int, efficiency: int,
                                                 imported: int, exported: int,
                                                 release: bool) -> None:
    reserve = min(reserve, 100_000)
    asset = battery(soc=soc, reserve=reserve, efficiency=efficiency)
    up = up_capacity(asset, INTERVAL_MS, release)
    down = down_capacity(asset, INTERVAL_MS)
    assert 0 <= up <= 40_000 * INTERVAL_MS // 3_600_000
    assert asset.soc_wh - up >= (0 if release else min(reserve, soc))
    assert asset.soc_wh + down * efficiency // 1_000 <= asset.energy_wh
    assert 0 <= follow_meter(asset, imported, exported) <= asset.energy_wh


def test_a_flexible_load_offers_only_up_flexibility() -> None:
    load = FlexAsset(OWNER, "flexible_load", "north", "L1", 0, 0, 8_000, 1_000, 0, 0, 90_000,
                     0, 5)
    assert up_capacity(load, INTERVAL_MS, False) == 2_000
    assert down_capacity(load, INTERVAL_MS) == 0


def test_wind_power_curve_and_firm_supply() -> None:
    assert [wind_per_mille(v) for v in (2_999, 3_000, 12_000, 24_999, 25_000)] == [
        0, 0, 1_000, 1_000, 0]
    assert 0 < wind_per_mille(7_500) < 1_000
    assert compute_wind(800_000, 12_000, INTERVAL_MS) == 200_000  # rated for 15 minutes
    assert compute_wind(800_000, None, INTERVAL_MS) == 0


PARAMS = BalancingParams()
DSO_ADDRESS = b"\1" * 20


def test_emergency_state_machine_transitions() -> None:
    step = rules.declare(None, "shortage", 2, 1_000, 5_000, DSO_ADDRESS)
    assert (step.action, step.emergency) == ("declared",
                                             Emergency("shortage", 2, 1_000, 5_000, DSO_ADDRESS))
    revised = rules.declare(step.emergency, "islanding", 3, 2_000, 9_000, DSO_ADDRESS)
    assert revised.action == "updated" and revised.emergency is not None
    assert (revised.emergency.kind, revised.emergency.declared_ms) == ("islanding", 1_000)
    assert rules.expire(revised.emergency, 8_999) is None
    expired = rules.expire(revised.emergency, 9_000)
    assert expired is not None and (expired.action, expired.emergency) == ("expired", None)
    # a DSO's emergency ignores the frequency feed
    assert rules.follow_frequency(step.emergency, 50_000, 3_000, PARAMS) is None
    # automatic ones follow it: declared below the band, graded, cleared back inside
    auto = rules.follow_frequency(None, 49_700, 3_000, PARAMS)
    assert auto is not None and auto.emergency is not None and auto.action == "declared"
    assert (auto.emergency.kind, auto.emergency.severity, auto.emergency.automatic) == (
        "shortage", 1, True)
    assert rules.follow_frequency(auto.emergency, 49_650, 4_000, PARAMS) is None  # same grade
    worse = rules.follow_frequency(auto.emergency, 49_000, 4_000, PARAMS)
    assert worse is not None and worse.emergency is not None
    assert (worse.action, worse.emergency.severity) == ("updated", 3)
    over = rules.follow_frequency(None, 50_500, 5_000, PARAMS)
    assert over is not None and over.emergency is not None
    assert (over.emergency.kind, over.emergency.severity) == ("overload", 2)
    cleared = rules.follow_frequency(worse.emergency, 50_010, 6_000, PARAMS)
    assert cleared is not None and (cleared.action, cleared.emergency) == ("cleared", None)
    assert rules.follow_frequency(None, 50_000, 6_000, PARAMS) is None
    assert rules.follow_frequency(None, None, 6_000, PARAMS) is None  # stale: nothing


def test_market_effect_of_an_emergency() -> None:
    mild = Emergency("shortage", 1, 0, 10, DSO_ADDRESS)
    severe = Emergency("overload", 2, 0, 10, DSO_ADDRESS)
    assert rules.market_effect(None, None, PARAMS) == (0, 0)
    assert rules.market_effect(mild, (10, 90_000), PARAMS) == (1, 90_000)
    assert rules.market_effect(mild, None, PARAMS) == (1, PARAMS.emergency_cap)
    assert rules.market_effect(severe, (10, 90_000), PARAMS) == (2, 0)


# -- dispatch and payment against fakes ----------------------------------------------------


@dataclass
class FakeAsset:
    owner: bytes
    asset_type: str
    capacity_w: int
    energy_wh: int
    zone_id: str
    meter_id: str


def plan(subject: Bench, zone: str, start: int, demand: int, supply: int) -> None:
    """Give ``zone`` a forecast for the interval at ``start``."""
    overlay = Overlay(subject.state)
    model = subject.module.keeper.get_model(overlay, zone)
    model.forecasts = [Forecast(start, demand, supply)]
    subject.module.keeper.set_model(overlay, zone, model)
    subject.state.apply(overlay.writes)


def offer(subject: Bench, asset_id: int, asset: FakeAsset, flex: FlexAsset) -> None:
    subject.grid.assets[asset_id] = asset
    overlay = Overlay(subject.state)
    subject.module.keeper.set_flex(overlay, asset_id, flex)
    subject.state.apply(overlay.writes)


def flex_bench() -> Bench:
    """North: a cheap and a dear battery and a curtailable load (priority 5), a
    critical load; DSO bounds; the DSO funded."""
    subject = bench({"bounds": [{"zone": "north", "floor": 10_000, "ceiling": 300_000}]})
    subject.grid.balances[NORTH_DSO] = 10**9
    for asset_id, price, meter in ((1, 80_000, "B1"), (2, 120_000, "B2")):
        offer(subject, asset_id, FakeAsset(OWNER, "storage", 40_000, 100_000, "north", meter),
              FlexAsset(OWNER, "storage", "north", meter, 100_000, 40_000, 40_000, 900, 20_000,
                        50_000, price, 5_000 * asset_id, 3))
    offer(subject, 3, FakeAsset(OWNER, "flexible_load", 12_000, 0, "north", "L1"),
          FlexAsset(OWNER, "flexible_load", "north", "L1", 0, 0, 8_000, 1_000, 0, 0, 100_000,
                    0, 5))
    offer(subject, 4, FakeAsset(OWNER, "flexible_load", 8_000, 0, "north", "L2"),
          FlexAsset(OWNER, "flexible_load", "north", "L2", 0, 0, 4_000, 1_000, 0, 0, 500_000,
                    0, 0))
    return subject


def dispatched(subject: Bench, zone: str = "north") -> list[tuple[str, int, int]]:
    record = ask(subject, "dispatch", zone=zone)
    return [(i["action"], i["asset_id"] or i["peer"], i["energy_wh"]) for i in record["items"]]


def test_short_zone_dispatches_up_flexibility_in_merit_order_and_pays_after_metering() -> None:
    subject = flex_bench()
    plan(subject, "north", DAY0, demand=25_000, supply=3_000)  # 22 kWh short
    end_block(subject, DAY0 + 10)
    # B1 (80k) gives what it has above its reserve: 30 kWh > 10 kWh power limit -> 10 kWh;
    # the load (100k) 2 kWh; B2 (120k) 10 kWh; the critical load is dearest
    assert dispatched(subject) == [("discharge", 1, 10_000), ("curtail", 3, 2_000),
                                   ("discharge", 2, 10_000)]
    kinds = [e.kind for e in subject.events]
    assert kinds.count("flex_dispatch") == 3 and "dispatch" in kinds
    # metering: B1 delivered 8 kWh, B2 all of it, the load fell 1.5 kWh below the interval
    # before
    subject.grid.meters[("B1", DAY0)] = (0, 8_000)
    subject.grid.meters[("B2", DAY0)] = (0, 12_000)
    subject.grid.meters[("L1", DAY0 - INTERVAL_MS)] = (3_000, 0)
    subject.grid.meters[("L1", DAY0)] = (1_500, 0)
    end_block(subject, DAY0 + INTERVAL_MS)
    record = ask(subject, "dispatch", zone="north", interval_start=DAY0)
    assert record["settled"]
    # paid: delivered Wh x price (micro-units/kWh) // 1000
    assert [(i["delivered_wh"], i["paid"]) for i in record["items"]] == [
        (8_000, 640_000), (1_500, 150_000), (10_000, 1_200_000)]
    assert subject.grid.balances[OWNER] == 1_990_000
    assert subject.grid.balances[NORTH_DSO] == 10**9 - 1_990_000
    status = ask(subject, "zone_status", zone="north")
    assert (status["price_rule"], status["price"]) == ("flex", 120_000)  # the marginal price
    assert subject.grid.interval_prices[("north", DAY0)] == 120_000
    assert ask(subject, "flex", asset_id=1)["soc_wh"] == 42_000  # followed its meter
    assert ask(subject, "flex", asset_id=2)["soc_wh"] == 38_000


def test_long_zone_charges_storage_and_the_dso_pays_what_it_can() -> None:
    subject = flex_bench()
    subject.grid.balances[NORTH_DSO] = 50_000
    plan(subject, "north", DAY0, demand=1_000, supply=15_000)  # 14 kWh long
    end_block(subject, DAY0 + 10)
    # room: (100k - 50k) x 1000 / 900 = 55,555 Wh; power 10 kWh each; B1 asks 5k, B2 10k
    assert dispatched(subject) == [("charge", 1, 10_000), ("charge", 2, 4_000)]
    subject.grid.meters[("B1", DAY0)] = (10_000, 0)
    subject.grid.meters[("B2", DAY0)] = (4_000, 0)
    end_block(subject, DAY0 + INTERVAL_MS)
    record = ask(subject, "dispatch", zone="north", interval_start=DAY0)
    # owed 10,000 Wh x 5,000 = 50,000 and 4,000 Wh x 10,000 = 40,000; the DSO had 50,000
    assert [i["paid"] for i in record["items"]] == [50_000, 0]
    assert subject.grid.balances[NORTH_DSO] == 0
    assert ask(subject, "flex", asset_id=1)["soc_wh"] == 59_000


def test_deadband_and_no_forecast_dispatch_nothing() -> None:
    subject = bench({"params": {"deadband_wh": 500}})
    plan(subject, "north", DAY0, demand=1_400, supply=1_000)
    end_block(subject, DAY0 + 10)
    assert dispatched(subject) == [] and dispatched(subject, "south") == []
    assert ask(subject, "dispatch", zone="north")["forecast_imbalance_wh"] == 400


def declare(subject: Bench, zone: str, kind: str, severity: int, time_ms: int) -> None:
    overlay = Overlay(subject.state)
    ctx = Context(overlay, subject.grid.operators[zone], 1, time_ms, "test",
                  ChainParams(interval_ms=INTERVAL_MS))
    subject.module.handlers["declare_emergency"](ctx, [zone, kind, severity, 3_600_000])
    subject.state.apply(overlay.writes)
    subject.events += ctx.events


def test_shortage_releases_reserves_shares_in_and_sheds_by_priority() -> None:
    subject = flex_bench()
    subject.grid.link_capacity[("south", "north")] = (8_000, 0)  # 2 kWh a quarter hour
    declare(subject, "north", "shortage", 2, DAY0 + 5)
    assert subject.grid.restrictions["north"] == (2, 0)  # severity 2 suspends the market
    plan(subject, "north", DAY0, demand=60_000, supply=0)
    plan(subject, "south", DAY0, demand=0, supply=5_000)  # south is 5 kWh long
    end_block(subject, DAY0 + 10)
    # reserves released: both batteries give their 10 kWh power limit, the loads curtail
    # (the critical one too: curtailing is its paid offer); 2 kWh come from the south over
    # the link; then shedding: the rest of load 3 (priority 5); the critical load
    # (priority 0) is not shed below severity 3
    assert dispatched(subject) == [("discharge", 1, 10_000), ("curtail", 3, 2_000),
                                   ("discharge", 2, 10_000), ("curtail", 4, 1_000),
                                   ("share_in", "south", 2_000), ("shed", 3, 1_000)]
    assert ask(subject, "dispatch", zone="north")["emergency"] == "shortage"


def test_severity_three_sheds_critical_loads_last() -> None:
    subject = flex_bench()
    declare(subject, "north", "islanding", 3, DAY0 + 5)
    plan(subject, "north", DAY0, demand=60_000, supply=0)
    end_block(subject, DAY0 + 10)
    assert dispatched(subject)[-2:] == [("shed", 3, 1_000), ("shed", 4, 1_000)]


def test_overload_curtails_generation_in_the_published_order() -> None:
    subject = flex_bench()
    subject.grid.assets[10] = FakeAsset(OWNER, "wind", 20_000, 0, "north", "")
    subject.grid.assets[11] = FakeAsset(OWNER, "solar", 8_000, 0, "north", "")
    subject.grid.assets[12] = FakeAsset(OWNER, "solar", 16_000, 0, "north", "")
    declare(subject, "north", "overload", 1, DAY0 + 5)
    assert subject.grid.restrictions["north"] == (1, 300_000)  # capped at the DSO's ceiling
    plan(subject, "north", DAY0, demand=0, supply=27_000)
    end_block(subject, DAY0 + 10)
    # storage charges 20 kWh (10 + 10); the other 7 kWh: solar largest first, then wind
    assert dispatched(subject) == [("charge", 1, 10_000), ("charge", 2, 10_000),
                                   ("curtail_generation", 12, 4_000),
                                   ("curtail_generation", 11, 2_000),
                                   ("curtail_generation", 10, 1_000)]


def test_automatic_emergency_from_the_frequency_feed_and_its_log() -> None:
    subject = flex_bench()
    subject.grid.feeds["grid_frequency"] = 49_400
    end_block(subject, DAY0 + 10)
    status = ask(subject, "emergency", zone="north")
    assert status["emergency"]["kind"] == "shortage" and status["emergency"]["severity"] == 2
    assert status["market"] == "suspended" and subject.grid.restrictions["north"] == (2, 0)
    subject.grid.feeds["grid_frequency"] = 50_000
    end_block(subject, DAY0 + 20)
    status = ask(subject, "emergency", zone="north")
    assert status["emergency"] is None and status["market"] == "open"
    assert subject.grid.restrictions["north"] == (0, 0)
    assert [(e["action"], e["by"]) for e in status["log"]] == [("declared", "automatic"),
                                                               ("cleared", "automatic")]


def test_resilience_figures() -> None:
    subject = flex_bench()
    end_block(subject, DAY0 + 10)
    end_block(subject, DAY0 + INTERVAL_MS)
    figures = ask(subject, "resilience", zone="north")
    assert figures["hosting_used_per_mille"] == 100
    assert figures["storage_soc_wh"] == 100_000 and figures["storage_available_wh"] == 60_000
    assert figures["flex_up_w"] == 40_000 + 40_000 + 8_000 + 4_000
    assert figures["islandable"] == 1  # no demand forecast yet: nothing to cover


def test_genesis_round_trip_with_flex_dispatch_and_emergencies() -> None:
    subject = flex_bench()
    declare(subject, "north", "shortage", 1, DAY0 + 5)
    plan(subject, "north", DAY0, demand=25_000, supply=3_000)
    end_block(subject, DAY0 + 10)
    end_block(subject, DAY0 + INTERVAL_MS)
    exported = subject.module.export_genesis(subject.state)
    assert exported["flex"] and exported["dispatches"] and exported["emergencies"]
    assert exported["log"] and exported["resilience"]
    copy = bench(exported)
    assert copy.state.data == subject.state.data


# -- through the vm -------------------------------------------------------------------------

CHAIN_INTERVAL_MS = 60_000


def grid_chain() -> tuple[Chain, int]:
    """North with Alice's 100 kWh battery behind storage meter M2, offered for
    dispatch; Carol funded; DSO bounds."""
    genesis = make_genesis(metering_accounts(),
                           params={"interval_ms": CHAIN_INTERVAL_MS})
    # intervals are recorded 10 s after they end, once the meters' last readings are in
    genesis.app_state["balancing"] = {"params": {"record_delay_ms": 10_000}}
    chain = start_chain(genesis)
    setup_zone(chain, hosting_w=500_000)
    setup_producer(chain, ALICE)
    asset = add_asset(chain, ALICE, asset_type="storage", capacity_w=60_000,
                      energy_wh=100_000, serial="SN-B1", meter="M2")
    activate(chain, asset)
    add_meter(chain, "M2", "storage", account=ALICE, asset_id=asset, max_power_w=60_000)
    assert send(chain, DSO, "balancing", "set_imbalance_bounds", ZONE, 10_000, 300_000).ok
    return chain, asset


def flex_args(asset: int, **change: int) -> list[int]:
    values = {"charge": 30_000, "discharge": 30_000, "efficiency": 900, "reserve": 10_000,
              "soc": 60_000, "up": 90_000, "down": 10_000, "priority": 2, **change}
    return [asset, *values.values()]


def code(result: Any) -> tuple[str, int]:
    return result.codespace, result.code


def test_offers_are_checked_against_the_asset() -> None:
    chain, asset = grid_chain()
    for signer, args, error in (
            (CAROL, flex_args(asset), errors.NotAssetOwner),
            (ALICE, flex_args(asset, discharge=70_000), errors.BadFlexArgs),
            (ALICE, flex_args(asset, reserve=100_001), errors.BadFlexArgs),
            (ALICE, flex_args(asset, efficiency=0), errors.BadFlexArgs),
            (ALICE, flex_args(asset + 99), errors.NotAssetOwner)):
        result = send(chain, signer, "balancing", "offer_flex", *args)
        assert code(result) == (error.codespace, error.code), result.log
    assert query(chain, "balancing/flex", zone=ZONE) == {"offers": []}
    assert send(chain, ALICE, "balancing", "offer_flex", *flex_args(asset)).ok
    assert send(chain, ALICE, "balancing", "offer_flex", *flex_args(asset, soc=1, up=1)).ok
    offered = query(chain, "balancing/flex", asset_id=asset)
    assert (offered["soc_wh"], offered["price_up"]) == (60_000, 1)  # soc is the meter's now
    assert send(chain, ALICE, "balancing", "withdraw_flex", asset).ok
    assert query(chain, "balancing/flex") == {"offers": []}


def test_an_emergency_suspends_the_market_and_the_all_clear_restores_it() -> None:
    chain, _ = grid_chain()
    interval = (chain.time_ms + 300_000) // CHAIN_INTERVAL_MS * CHAIN_INTERVAL_MS
    bid = ["buy", ZONE, interval, 500, 100_000, 0, 0, b"", 0]
    before = query(chain, "accounts/supply")
    carol = int(query(chain, "accounts/balance", address="0x" + CAROL.address.hex())["balance"])
    assert send(chain, CAROL, "trading", "place_order", *bid).ok
    refused = send(chain, OTHER_DSO, "balancing", "declare_emergency", ZONE, "shortage", 2,
                   600_000)
    assert code(refused) == (errors.NotZoneOperator.codespace, errors.NotZoneOperator.code)
    bad = send(chain, DSO, "balancing", "declare_emergency", ZONE, "meltdown", 2, 600_000)
    assert code(bad) == (errors.BadEmergency.codespace, errors.BadEmergency.code)
    assert send(chain, DSO, "balancing", "declare_emergency", ZONE, "shortage", 2, 600_000).ok
    suspended = send(chain, CAROL, "trading", "place_order", *bid)
    assert code(suspended) == (trading_errors.MarketSuspended.codespace,
                               trading_errors.MarketSuspended.code)
    run_until(chain, interval)  # the gate closed while suspended: the bid closed unfilled
    assert int(query(chain, "accounts/balance",
                     address="0x" + ESCROW_ACCOUNT.hex())["balance"]) == 0
    fees = int(query(chain, "accounts/account", address="0x" + CAROL.address.hex())["nonce"])
    after = int(query(chain, "accounts/balance", address="0x" + CAROL.address.hex())["balance"])
    assert after == carol - fees * 10  # only tx fees were spent (min fee 10)
    assert send(chain, DSO, "balancing", "declare_emergency", ZONE, "shortage", 1, 600_000).ok
    capped = send(chain, CAROL, "trading", "place_order",
                  *["buy", ZONE, interval + 600_000, 500, 300_001, 0, 0, b"", 0])
    assert code(capped) == (trading_errors.MarketSuspended.codespace,
                            trading_errors.MarketSuspended.code)
    assert send(chain, DSO, "balancing", "clear_emergency", ZONE).ok
    nothing = send(chain, DSO, "balancing", "clear_emergency", ZONE)
    assert code(nothing) == (errors.NoEmergency.codespace, errors.NoEmergency.code)
    assert send(chain, CAROL, "trading", "place_order",
                *["buy", ZONE, interval + 600_000, 500, 300_001, 0, 0, b"", 0]).ok
    log = query(chain, "balancing/emergency", zone=ZONE)["log"]
    assert [(e["action"], e["severity"]) for e in log] == [("declared", 2), ("updated", 1),
                                                           ("cleared", 0)]
    assert query(chain, "accounts/supply")["supply"] == before["supply"]


def test_battery_dispatched_on_chain_is_paid_and_follows_its_meter() -> None:
    chain, asset = grid_chain()
    assert send(chain, ALICE, "balancing", "offer_flex", *flex_args(asset)).ok
    # teach the zone a demand: a consumption meter importing 300 Wh a minute
    add_meter(chain, "M1", "consumption", account=CAROL)
    start = (chain.time_ms // CHAIN_INTERVAL_MS + 1) * CHAIN_INTERVAL_MS
    run_until(chain, start)
    relay(chain, [reading("M1", 1, start, 0)])
    for index in range(1, 3):  # a reading at each interval's end, in the first block after
        run_until(chain, start + index * CHAIN_INTERVAL_MS)
        relay(chain, [reading("M1", index + 1, start + index * CHAIN_INTERVAL_MS, 300 * index)])
    supply = query(chain, "accounts/supply")
    dispatch = query(chain, "balancing/dispatch", zone=ZONE)
    target = dispatch["interval_start"]
    assert dispatch["forecast_imbalance_wh"] > 0
    assert [(i["action"], i["asset_id"]) for i in dispatch["items"]] == [("discharge", asset)]
    instructed = dispatch["items"][0]["energy_wh"]
    # the smoothed demand (the zone's first interval, before the meter read, counted 0)
    assert instructed == dispatch["forecast_imbalance_wh"] == 300 * 300 // 1_000
    # the battery discharges 250 Wh in the interval
    relay(chain, [reading("M2", 1, target, 0, 0)])
    run_until(chain, target + CHAIN_INTERVAL_MS)
    relay(chain, [reading("M2", 2, target + CHAIN_INTERVAL_MS, 0, 250)])
    alice = int(query(chain, "accounts/balance", address="0x" + ALICE.address.hex())["balance"])
    run_until(chain, target + CHAIN_INTERVAL_MS + 11_000)
    settled = query(chain, "balancing/dispatch", zone=ZONE, interval_start=target)
    delivered = min(instructed, 250)
    assert settled["settled"] and settled["items"][0]["delivered_wh"] == delivered
    assert settled["items"][0]["paid"] == delivered * 90_000 // 1_000
    now = int(query(chain, "accounts/balance", address="0x" + ALICE.address.hex())["balance"])
    assert now == alice + delivered * 90
    assert query(chain, "balancing/flex", asset_id=asset)["soc_wh"] == 60_000 - 250
    status = query(chain, "balancing/zone_status", zone=ZONE, interval_start=target)
    assert status["price_rule"] == "flex" and status["price"] == 90_000
    # payments only move money
    assert query(chain, "accounts/supply")["supply"] == supply["supply"]
    resilience = query(chain, "balancing/resilience", zone=ZONE)
    assert resilience["storage_soc_wh"] == 59_750
    assert_genesis_round_trip(chain)
