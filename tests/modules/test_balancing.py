"""Balancing (first cut): records per (zone, interval), integer forecasts with a
seasonal term, the DSO-bounded imbalance price, queries and genesis round trip.

The end-block rules run first against fakes of metering, registration, oracle
and trading (``Grid``), then through the real vm (``build_vm``)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from chain_helpers import (
    DAVE,
    Chain,
    account_entry,
    assert_genesis_round_trip,
    make_genesis,
    query,
    run_block,
    start_chain,
)
from metering_helpers import send
from registration_helpers import DSO, FUNDS, OTHER_DSO, ZONE, registration_accounts

from wattchain.modules.accounts.types import ROLE_BITS, Account
from wattchain.modules.balancing import BalancingModule, errors
from wattchain.modules.balancing.forecast import compute_ape, compute_solar
from wattchain.modules.balancing.pricing import compute_price
from wattchain.modules.metering.types import IntervalEnergy
from wattchain.vm.interface import Context
from wattchain.vm.params import ChainParams
from wattchain.vm.state import MemoryState, Overlay, StateReader

INTERVAL_MS = 900_000
PER_DAY = 96
DAY0 = 1_700_006_400_000  # a multiple of the day


@dataclass
class Grid:
    """Fakes of every Protocol balancing reads: energy, zones, feeds, market."""

    energy: dict[tuple[str, int], tuple[int, int]] = field(default_factory=dict)
    scheduled: dict[tuple[str, int], int] = field(default_factory=dict)
    operators: dict[str, bytes] = field(default_factory=lambda: {"north": b"\1" * 20,
                                                                 "south": b"\2" * 20})
    solar_w: int = 0
    feeds: dict[str, int | None] = field(default_factory=dict)
    prices: dict[str, int] = field(default_factory=dict)
    interval_prices: dict[tuple[str, int], int] = field(default_factory=dict)
    restrictions: dict[str, tuple[int, int]] = field(default_factory=dict)
    link_capacity: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    meters: dict[tuple[str, int], tuple[int, int]] = field(default_factory=dict)
    assets: dict[int, Any] = field(default_factory=dict)
    balances: dict[bytes, int] = field(default_factory=dict)

    def zone_energy(self, state: StateReader, zone_id: str, start_ms: int) -> IntervalEnergy:
        return IntervalEnergy(*self.energy.get((zone_id, start_ms), (0, 0)))

    def zone_ids(self, state: StateReader) -> list[str]:
        return sorted(self.operators)

    def zone_operator(self, state: StateReader, zone_id: str) -> bytes | None:
        return self.operators.get(zone_id)

    def get_account(self, state: StateReader, address: bytes) -> Account:
        """The fake's roles: its zone operators hold the dso role."""
        return Account(roles=ROLE_BITS["dso"] if address in self.operators.values() else 0)

    def zone_capacity(self, state: StateReader, zone_id: str, asset_type: str,
                      at_ms: int) -> int:
        return self.solar_w if asset_type == "solar" else 0

    def latest(self, state: StateReader, feed: str, zone: str, now_ms: int,
               max_age_ms: int) -> int | None:
        return self.feeds.get(feed)

    def scheduled_wh(self, state: StateReader, zone: str, interval_start: int) -> int:
        return self.scheduled.get((zone, interval_start), 0)

    def set_imbalance_price(self, state: Any, zone: str, price: int) -> None:
        self.prices[zone] = price

    def set_interval_imbalance_price(self, state: Any, zone: str, interval_start: int,
                                     price: int) -> None:
        self.interval_prices[(zone, interval_start)] = price

    def delete_interval_imbalance_price(self, state: Any, zone: str,
                                        interval_start: int) -> None:
        self.interval_prices.pop((zone, interval_start), None)

    def set_restriction(self, state: Any, zone: str, mode: int, cap: int) -> None:
        self.restrictions[zone] = (mode, cap)

    def links(self, state: StateReader) -> list[tuple[tuple[str, str], tuple[int, int]]]:
        return sorted(self.link_capacity.items())

    def meter_energy(self, state: StateReader, meter_id: str, start_ms: int) -> IntervalEnergy:
        return IntervalEnergy(*self.meters.get((meter_id, start_ms), (0, 0)))

    def zone_hosting(self, state: StateReader, zone_id: str) -> tuple[int, int] | None:
        return (1_000_000, 100_000) if zone_id in self.operators else None

    def zone_asset_ids(self, state: StateReader, zone_id: str) -> list[int]:
        return sorted(i for i, a in self.assets.items() if a.zone_id == zone_id)

    def get_asset(self, state: StateReader, asset_id: int) -> Any:
        return self.assets.get(asset_id)

    def active_capacity(self, state: StateReader, asset_id: int, at_ms: int) -> int:
        asset = self.assets.get(asset_id)
        return 0 if asset is None else asset.capacity_w

    def transfer(self, state: Any, sender: bytes, recipient: bytes, amount: int) -> None:
        assert 0 < amount <= self.balances.get(sender, 0)
        self.balances[sender] -= amount
        self.balances[recipient] = self.balances.get(recipient, 0) + amount

    def get_balance(self, state: StateReader, address: bytes) -> int:
        return self.balances.get(address, 0)


@dataclass
class Bench:
    grid: Grid
    module: BalancingModule
    state: MemoryState
    events: list[Any] = field(default_factory=list)


def bench(section: dict[str, Any] | None = None) -> Bench:
    grid = Grid()
    module = BalancingModule(energy=grid, registry=grid, feeds=grid, market=grid, bank=grid,
                             roles=grid)
    state = MemoryState()
    overlay = Overlay(state)
    module.init_genesis(overlay, section or {})
    state.apply(overlay.writes)
    return Bench(grid, module, state)


def end_block(bench: Bench, time_ms: int, sender: bytes = b"") -> None:
    overlay = Overlay(bench.state)
    ctx = Context(overlay, sender, 1, time_ms, "test", ChainParams(interval_ms=INTERVAL_MS))
    bench.module.end_block(ctx)
    bench.state.apply(overlay.writes)
    bench.events += ctx.events
    assert bench.module.check_invariants(bench.state) == []


def ask(bench: Bench, name: str, **data: Any) -> Any:
    return bench.module.queries[name](bench.state, data)


def seasonal_demand(index: int, rng: random.Random) -> int:
    """A daily profile (night trough, evening peak) with +-3 % seeded noise."""
    slot = index % PER_DAY
    base = 2_000 + 30 * min(slot, PER_DAY - slot) + (1_500 if 68 <= slot < 84 else 0)
    return base + base * rng.randint(-30, 30) // 1_000


def run_days(bench: Bench, days: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    end_block(bench, DAY0 + 1)  # the first end_block starts with the running interval
    for index in range(days * PER_DAY):
        start = DAY0 + index * INTERVAL_MS
        bench.grid.energy[("north", start)] = (seasonal_demand(index, rng), 100)
        end_block(bench, start + INTERVAL_MS)


# -- end_block against fakes ----------------------------------------------------------


def test_a_record_per_zone_and_ended_interval() -> None:
    subject = bench()
    subject.grid.energy[("north", DAY0)] = (5_000, 1_200)
    subject.grid.scheduled[("north", DAY0)] = 1_500
    end_block(subject, DAY0 + 10)
    assert ask(subject, "params")["next_interval"] == DAY0
    end_block(subject, DAY0 + INTERVAL_MS - 1)  # the interval has not ended
    assert list(subject.module.keeper.iterate_records(subject.state)) == []
    end_block(subject, DAY0 + INTERVAL_MS)
    status = ask(subject, "zone_status", zone="north")
    assert status["bounds"] is None
    assert (status["interval_start"], status["import_wh"], status["export_wh"],
            status["scheduled_wh"], status["imbalance_wh"],
            status["schedule_deviation_wh"]) == (DAY0, 5_000, 1_200, 1_500, 3_800, -300)
    assert ask(subject, "zone_status", zone="south")["imbalance_wh"] == 0
    assert ask(subject, "totals") == {"interval_start": DAY0, "zones": 2, "import_wh": 5_000,
                                      "export_wh": 1_200, "scheduled_wh": 1_500,
                                      "imbalance_wh": 3_800, "flex_up_wh": 0,
                                      "flex_down_wh": 0, "storage_soc_wh": 0,
                                      "storage_energy_wh": 0, "emergencies": 0}
    assert [e.kind for e in subject.events if e.kind != "dispatch"] == [
        "interval_balanced"] * 2


def test_catch_up_is_bounded_and_old_records_are_pruned() -> None:
    subject = bench({"params": {"max_catch_up": 3, "season_ms": INTERVAL_MS * 2,
                                "retain_ms": INTERVAL_MS * 2}})
    end_block(subject, DAY0)
    end_block(subject, DAY0 + 10 * INTERVAL_MS)
    starts = [s for z, s, _ in subject.module.keeper.iterate_records(subject.state)
              if z == "north"]
    assert starts == [DAY0 + 8 * INTERVAL_MS, DAY0 + 9 * INTERVAL_MS]  # 7 pruned


def test_seasonal_forecast_is_deterministic_with_a_mape_bound() -> None:
    first, second = bench(), bench()
    run_days(first, 4)
    run_days(second, 4)
    assert first.state.data == second.state.data
    accuracy = ask(first, "accuracy", zone="north")
    assert accuracy["scored"] == 4 * PER_DAY - 1 and accuracy["mape_per_mille"] < 40
    later = [r.ape_per_mille for z, s, r in first.module.keeper.iterate_records(first.state)
             if z == "north" and s >= DAY0 + 2 * 86_400_000]
    assert sum(later) // len(later) < 30  # with the seasonal term: under 3 %
    forecasts = ask(first, "forecast", zone="north")["forecasts"]
    assert [f["interval_start"] for f in forecasts] == [
        DAY0 + (4 * PER_DAY + step) * INTERVAL_MS for step in range(4)]


def test_solar_forecast_is_capacity_times_irradiance() -> None:
    subject = bench()
    subject.grid.solar_w, subject.grid.feeds["irradiance"] = 40_000, 600
    end_block(subject, DAY0)
    end_block(subject, DAY0 + INTERVAL_MS)
    forecasts = ask(subject, "forecast", zone="north")["forecasts"]
    assert {f["solar_wh"] for f in forecasts} == {6_000}  # 40 kW x 0.6 x 0.25 h
    assert compute_solar(40_000, None, INTERVAL_MS) == 0


def test_imbalance_price_follows_the_oracle_clamped_to_the_bounds() -> None:
    subject = bench({"bounds": [{"zone": "north", "floor": 50_000, "ceiling": 300_000}],
                     "params": {"price_factor_per_mille": 1_500}})
    subject.grid.feeds["wholesale_price"] = 100_000
    end_block(subject, DAY0)
    end_block(subject, DAY0 + INTERVAL_MS)
    assert subject.grid.prices == {"north": 150_000}  # south has no bounds: untouched
    assert ask(subject, "zone_status", zone="north")["price_rule"] == "oracle"
    assert ask(subject, "zone_status", zone="south")["price_rule"] == "none"
    subject.grid.feeds["wholesale_price"] = 1_000_000
    end_block(subject, DAY0 + 2 * INTERVAL_MS)
    assert subject.grid.prices["north"] == 300_000
    subject.grid.feeds["wholesale_price"] = -20_000
    end_block(subject, DAY0 + 3 * INTERVAL_MS)
    assert subject.grid.prices["north"] == 50_000


def test_stale_oracle_takes_the_ceiling_when_short_and_the_floor_when_long() -> None:
    subject = bench({"bounds": [{"zone": "north", "floor": 50_000, "ceiling": 300_000}]})
    subject.grid.energy[("north", DAY0)] = (900, 100)
    subject.grid.energy[("north", DAY0 + INTERVAL_MS)] = (100, 900)
    end_block(subject, DAY0)
    end_block(subject, DAY0 + INTERVAL_MS)
    assert (subject.grid.prices["north"],
            ask(subject, "zone_status", zone="north")["price_rule"]) == (300_000, "stale_short")
    end_block(subject, DAY0 + 2 * INTERVAL_MS)
    assert (subject.grid.prices["north"],
            ask(subject, "zone_status", zone="north")["price_rule"]) == (50_000, "stale_long")


def test_published_rules() -> None:
    assert compute_price(None, 100, 1_000, 5) == (0, "none")
    assert compute_price((0, 10), 7, 1_000, 5) == (7, "oracle")
    assert compute_price((0, 10), None, 1_000, 0) == (0, "stale_long")
    assert compute_ape(0, 10) is None and compute_ape(1_000, 900) == 100


def test_genesis_round_trip_of_the_bench() -> None:
    subject = bench({"bounds": [{"zone": "north", "floor": 1, "ceiling": 2}]})
    run_days(subject, 1)
    exported = subject.module.export_genesis(subject.state)
    copy = bench(exported)
    assert copy.module.export_genesis(copy.state) == exported
    assert copy.state.data == subject.state.data


# -- through the vm ------------------------------------------------------------------------

CHAIN_INTERVAL_MS = 60_000


def grid_chain() -> Chain:
    accounts = registration_accounts() + [account_entry(DAVE, FUNDS, ["oracle"])]
    chain = start_chain(make_genesis(accounts, params={"interval_ms": CHAIN_INTERVAL_MS}))
    assert send(chain, DSO, "registration", "set_zone", ZONE, "North feeder", 10**9).ok
    return chain


def module(chain: Chain, name: str) -> Any:
    return next(item for item in chain.vm.modules if item.name == name)


def run_past_interval(chain: Chain) -> int:
    """Run blocks until the interval now running has ended; return its start."""
    start = (chain.time_ms + 1_000) // CHAIN_INTERVAL_MS * CHAIN_INTERVAL_MS
    while chain.time_ms < start + CHAIN_INTERVAL_MS:
        run_block(chain, [])
    return start


def test_bounds_are_the_zone_operators_alone() -> None:
    chain = grid_chain()
    for signer, args, error in (
            (OTHER_DSO, [ZONE, 1, 2], errors.NotZoneOperator),
            (DSO, ["nowhere", 1, 2], errors.UnknownZone),
            (DSO, [ZONE, 3, 2], errors.BadBounds)):
        result = send(chain, signer, "balancing", "set_imbalance_bounds", *args)
        assert (result.codespace, result.code) == (error.codespace, error.code), result.log
    assert send(chain, DSO, "balancing", "set_imbalance_bounds", ZONE, 40_000, 90_000).ok


def test_the_chain_prices_imbalance_for_settlement_and_round_trips() -> None:
    chain = grid_chain()
    assert send(chain, DSO, "balancing", "set_imbalance_bounds", ZONE, 40_000, 90_000).ok
    round_index = (chain.time_ms + 1_000) // 60_000
    assert send(chain, DAVE, "oracle", "submit", "wholesale_price", ZONE, round_index,
                120_000).ok
    start = run_past_interval(chain)
    status = query(chain, "balancing/zone_status", zone=ZONE)
    assert (status["interval_start"], status["price"], status["price_rule"]) == (
        start, 90_000, "oracle")
    assert module(chain, "trading").keeper.imbalance_price(chain.state, ZONE) == 90_000
    assert len(query(chain, "balancing/forecast", zone=ZONE)["forecasts"]) == 4
    section = assert_genesis_round_trip(chain).app_state["balancing"]
    assert section["records"] and section["bounds"] and section["models"]
