"""The demo's pieces without a testnet: the headless line, folding block events into
the tally, meter registers carrying fractions of a Wh, and the scripted emergency."""

from __future__ import annotations

import random
from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("pvlib")  # the sim extra

from wattchain.sim.agents import IntervalAgents, MeterState, Scenario  # noqa: E402
from wattchain.sim.community import SLOT_MS  # noqa: E402
from wattchain.sim.session import DemoState, Tally  # noqa: E402
from wattchain.sim.views import ChainViews, headless_line  # noqa: E402


def make_views(tally: Tally) -> ChainViews:
    community: Any = SimpleNamespace(members=[])
    return ChainViews([], community, DemoState(7, 8, 4000), tally, {5: "home-01 storage"})


def test_headless_line_names_dispatched_flex_and_the_emergency_kind() -> None:
    view = {"clearing_price": 90_000, "cleared_wh": 12, "dispatched_up_wh": 3,
            "dispatched_down_wh": 4, "flex_up_wh": 99, "market": "suspended",
            "emergency": {"kind": "islanding", "severity": 2, "expiry_ms": 1}}
    snapshot = {"interval": 3, "interval_start": 12_000, "sim_time": "2025-06-21 05:45",
                "height": 40, "txs": 7, "zones": {"north": view, "south": {}},
                "bills_verified": 1, "bills_mismatched": 0, "certificates": 2,
                "emergencies_declared": 1, "emergencies_cleared": 0}
    line = headless_line(snapshot, app_hashes_agree=True)
    north, south = line["zones"]["north"], line["zones"]["south"]
    assert (north["flex_up_wh"], north["flex_down_wh"]) == (3, 4)
    assert (north["emergency"], north["market"]) == ("islanding", "suspended")
    assert north["curtailed_wh"] is None and south["emergency"] is None
    assert line["certificates"] == 2 and line["app_hashes_agree"] is True


def test_folding_a_block_counts_its_txs_and_events() -> None:
    tally = Tally()
    views = make_views(tally)
    trade = {"kind": "trade", "attributes": {"zone": "north", "buyer": "0x01",
                                             "energy_wh": "120", "price": "90000"}}
    certificate = {"kind": "certificate_issued", "attributes": {}}
    dispatch = {"kind": "flex_dispatch", "attributes": {"zone": "north", "asset_id": "5",
                                                        "action": "discharge",
                                                        "energy_wh": "40", "price": "1"}}
    emergency = {"kind": "emergency", "module": "balancing",
                 "attributes": {"action": "declared", "zone": "north", "kind": "islanding",
                                "market": "2"}}
    views.fold_block({"txs_results": [{"events": [trade, certificate]}, {"events": []}],
                      "end_block_events": [dispatch, emergency]})
    assert tally.txs == 2
    assert tally.trades[0] == {"zone": "north", "buyer": "?", "seller": "?", "wh": 120,
                               "price": 90_000}
    assert tally.dispatches[0]["asset"] == "home-01 storage"
    assert tally.counts["certificates"] == 1 and tally.counts["emergencies_declared"] == 1
    assert tally.log[-1] == "north: emergency declared (islanding, market suspended)"


def test_meter_registers_carry_fractions_of_a_wh() -> None:
    meter = MeterState()
    meter.add("import", 10, SLOT_MS - 1)
    assert (meter.import_wh, meter.import_rest) == (10, SLOT_MS - 1)
    meter.add("import", 0, 2)
    assert (meter.import_wh, meter.import_rest) == (11, 1)
    assert (meter.export_wh, meter.export_rest) == (0, 0)


class RecordingSender:
    def tx(self, member: Any, module: str, method: str, *args: Any) -> tuple[Any, ...]:
        return (member, module, method, *args)


def test_the_scripted_emergency_is_declared_then_cleared() -> None:
    community: Any = SimpleNamespace(dso=lambda zone: f"dso-{zone}")
    sender: Any = RecordingSender()
    tally = Tally()
    agents = IntervalAgents(sender, community, DemoState(7, 8, 4000), random.Random(0),
                            tally=tally, scenario=Scenario(emergency_at=2, emergency_for=3))
    assert agents.scenario_txs(1) == []
    assert agents.scenario_txs(2) == [("dso-north", "balancing", "declare_emergency", "north",
                                       "islanding", 2, 10 * 3 * 4000)]
    assert agents.scenario_txs(5) == [("dso-north", "balancing", "clear_emergency", "north")]
    assert len(tally.log) == 2
