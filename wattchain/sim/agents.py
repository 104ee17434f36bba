"""The community's agents for one market interval: each returns the signed txs
it wants sent right after the interval starts.

* the gateway relays a signed reading of every meter at the boundary (what it
  measured in the interval that ended: demand, generation, and storage and EV
  charging as balancing dispatched them);
* three oracles submit the slot's weather, a wholesale price, the grid
  frequency and the emission factor for each zone;
* producers ask, and consumers bid, for the next interval from their
  forecasts (the profile with noise);
* at scripted intervals the north DSO declares its feeder islanded
  (severity 2) and later gives the all-clear;
* every ``bill_every`` intervals the DSOs issue bills of settled intervals,
  which ``verify_bills`` then recomputes from chain data.

All randomness comes from the one seeded ``rng`` the demo hands in.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from wattchain.client import RpcCallError
from wattchain.client.reports import fetch_intervals, fetch_trades, recompute_bill
from wattchain.crypto import format_address
from wattchain.modules.metering.ingest import sign_reading
from wattchain.sim.community import ASK_PRICES, EV_W, SLOT_MS, ZONES, Asset, Community, Member
from wattchain.sim.session import DemoState, Tally, TxSender
from wattchain.types import SignedTx

READINGS_PER_TX = 150
HOURLY_PRICE_SHAPE = {7: 30, 8: 40, 9: 20, 12: -25, 13: -30, 14: -20, 18: 50, 19: 60, 20: 45,
                      21: 25}  # thousands of micro-units/kWh added to the base price


@dataclass
class Scenario:
    """When the scripted emergency happens (interval indexes since the demo began)."""

    emergency_at: int = 6
    emergency_for: int = 4
    zone: str = "north"
    kind: str = "islanding"  # the feeder loses its upstream line: both directions matter


@dataclass
class MeterState:
    """A simulated meter's registers, as the gateway last reported them."""

    seq: int = 0
    import_wh: int = 0
    export_wh: int = 0
    import_rest: int = 0  # fractions of a Wh carried between intervals (over SLOT_MS)
    export_rest: int = 0

    def add(self, name: str, whole: int, rest: int) -> None:
        """Add ``whole`` Wh and ``rest``/``SLOT_MS`` Wh to register ``name``
        (``import`` or ``export``), carrying whole Wh out of the fraction."""
        total_rest = getattr(self, f"{name}_rest") + rest
        setattr(self, f"{name}_wh", getattr(self, f"{name}_wh") + whole + total_rest // SLOT_MS)
        setattr(self, f"{name}_rest", total_rest % SLOT_MS)


class IntervalAgents:
    """Everyone who acts once per interval, with what they remember between
    intervals (meter registers, bills awaiting their check)."""

    def __init__(self, sender: TxSender, community: Community, state: DemoState,
                 rng: random.Random, tally: Tally, scenario: Scenario | None = None,
                 bill_every: int = 4) -> None:
        self.sender = sender
        self.community = community
        self.state = state
        self.rng = rng
        self.tally = tally
        self.scenario = scenario or Scenario()
        self.bill_every = bill_every
        self.meters: dict[str, MeterState] = {}
        self.pending_bills: list[tuple[bytes, int, int]] = []

    def interval_txs(self, interval_start: int) -> list[SignedTx]:
        """Every agent's txs for the interval starting at ``interval_start``."""
        index = self.state.slot(interval_start)
        txs = self.readings(interval_start)
        txs += self.oracle_submissions(interval_start)
        txs += self.orders(interval_start + self.state.interval_ms)
        txs += self.scenario_txs(index)
        if index > 0 and index % self.bill_every == 0:
            txs += self.bills(interval_start)
        return txs

    # -- meters ---------------------------------------------------------------------------

    def load_meters(self) -> None:
        """Meter registers and sequences as the chain has them (a resumed demo)."""
        for _, meter_id, _, _ in self.community.meters():
            meter = self.sender.client.query("metering/meter", meter_id=meter_id)
            self.meters[meter_id] = MeterState(int(meter["last_seq"]), int(meter["import_wh"]),
                                               int(meter["export_wh"]))

    def readings(self, boundary: int) -> list[SignedTx]:
        """A reading of every meter at ``boundary``: what it measured in the interval
        that ended there."""
        ended = boundary - self.state.interval_ms
        dispatch = self.dispatched(ended)
        signed = []
        for member, meter_id, meter_type, asset in self.community.meters():
            meter = self.meters.setdefault(meter_id, MeterState())
            if meter.seq > 0:
                self.advance_meter(meter, member, asset, meter_type, ended, dispatch)
            meter.seq += 1
            signed.append(sign_reading(self.community.meter_key(meter_id),
                                       self.sender.chain_id, meter_id, meter.seq, boundary,
                                       meter.import_wh, meter.export_wh))
        gateway = self.community.member("gateway")
        return [self.sender.tx(gateway, "metering", "submit_readings",
                               signed[i:i + READINGS_PER_TX])
                for i in range(0, len(signed), READINGS_PER_TX)]

    def advance_meter(self, meter: MeterState, member: Member, asset: Asset | None,
                      meter_type: str, ended: int, dispatch: dict[int, tuple[str, int]]
                      ) -> None:
        """Add what the meter measured in the interval starting at ``ended``."""
        slot = self.state.slot(ended)
        if meter_type == "consumption":
            meter.add("import", *self.community.interval_wh(
                self.community.slot_wh(member, None, slot)))
        elif asset is None:
            return
        elif meter_type == "production":
            whole, rest = self.community.interval_wh(self.community.slot_wh(member, asset,
                                                                            slot))
            action, energy = dispatch.get(asset.asset_id, ("", 0))
            if action == "curtail_generation":  # the plant held back as instructed
                whole, rest = max(0, whole - energy), 0
            meter.add("export", whole, rest)
        elif meter_type == "storage":  # the battery follows the dispatch, with losses
            action, energy = dispatch.get(asset.asset_id, ("", 0))
            if action == "discharge":
                meter.add("export", energy * self.rng.randint(90, 100) // 100, 0)
            elif action == "charge":
                meter.add("import", energy * self.rng.randint(90, 100) // 100, 0)
        else:  # an EV charger: charges in the evening unless dispatched to hold back
            action, energy = dispatch.get(asset.asset_id, ("", 0))
            hour = self.community.data.slot_start(slot).hour
            charging = EV_W * self.state.interval_ms // 3_600_000 if 17 <= hour < 23 else 0
            held = energy if action in ("curtail", "shed") else 0
            meter.add("import", max(0, charging - held), 0)

    def dispatched(self, interval_start: int) -> dict[int, tuple[str, int]]:
        """asset id -> (action, Wh) of what balancing dispatched in an interval."""
        found: dict[int, tuple[str, int]] = {}
        for zone in ZONES:
            try:
                record = self.sender.client.query("balancing/dispatch", zone=zone,
                                                  interval_start=interval_start)
            except RpcCallError:
                continue
            for item in record["items"]:
                if item["asset_id"]:
                    found[int(item["asset_id"])] = (item["action"], int(item["energy_wh"]))
        return found

    # -- oracles and the market -----------------------------------------------------------

    def wholesale(self, slot: int) -> int:
        """A day-ahead-like wholesale price (micro-units/kWh) with morning and
        evening peaks and a midday solar dip."""
        hour = self.community.data.slot_start(slot).hour
        shape = HOURLY_PRICE_SHAPE.get(hour, 0)
        return 95_000 + shape * 1_000 + (slot * 7_919 % 11) * 1_000

    def oracle_submissions(self, interval_start: int) -> list[SignedTx]:
        """Each oracle's value of every feed for every zone (prices and temperature
        differ by a little between oracles; the frequency is noisy)."""
        slot = self.state.slot(interval_start)
        weather = self.community.data.weather(slot)
        round_index = interval_start // self.state.interval_ms
        values = {"irradiance": weather["irradiance"], "temperature": weather["temperature"],
                  "wind_speed": weather["wind_speed"], "wholesale_price": self.wholesale(slot),
                  "emission_factor": 380 - min(200, weather["irradiance"] // 5)}
        txs = []
        for number, oracle in enumerate(self.community.by_role("oracle")):
            for zone in ZONES:
                for feed, value in values.items():
                    jitter = 0 if feed in ("irradiance", "wind_speed") else number - 1
                    txs.append(self.sender.tx(oracle, "oracle", "submit", feed, zone,
                                              round_index, value + jitter))
                txs.append(self.sender.tx(oracle, "oracle", "submit", "grid_frequency", zone,
                                          round_index, 50_000 + self.rng.randint(-40, 40)))
        return txs

    def orders(self, delivery: int) -> list[SignedTx]:
        """Asks and bids for the interval starting at ``delivery``."""
        slot = self.state.slot(delivery)
        price = self.wholesale(slot)
        txs = []
        for member in self.community.members:
            for asset in member.assets:
                if asset.kind not in ASK_PRICES or not asset.asset_id:
                    continue
                forecast = self.forecast(member, asset, slot)
                if forecast > 0:
                    ask = ASK_PRICES[asset.kind] + self.rng.randint(0, 20_000)
                    txs.append(self.sender.tx(member, "trading", "place_order", "sell",
                                              member.zone, delivery, forecast, ask, 0, 0, b"",
                                              asset.asset_id))
            if member.demand_profile:
                forecast = self.forecast(member, None, slot)
                if forecast > 0:
                    bid = price + self.rng.randint(20_000, 120_000)
                    renewable = int(member.role == "household" and self.rng.random() < 0.3)
                    txs.append(self.sender.tx(member, "trading", "place_order", "buy",
                                              member.zone, delivery, forecast, bid, 0,
                                              renewable, b"", 0))
        return txs

    def forecast(self, member: Member, asset: Asset | None, slot: int) -> int:
        """The agent's own forecast of its interval energy: the profile +-10 %."""
        whole, _ = self.community.interval_wh(self.community.slot_wh(member, asset, slot))
        return whole * self.rng.randint(90, 110) // 100

    # -- the scripted emergency -----------------------------------------------------------

    def scenario_txs(self, index: int) -> list[SignedTx]:
        """The DSO's declaration at ``emergency_at`` and its all-clear
        ``emergency_for`` intervals later; nothing at other intervals."""
        scenario = self.scenario
        dso = self.community.dso(scenario.zone)
        if index == scenario.emergency_at:
            self.tally.log.append(f"#{index} {scenario.zone}: DSO declares {scenario.kind} "
                                  "(severity 2)")
            return [self.sender.tx(dso, "balancing", "declare_emergency", scenario.zone,
                                   scenario.kind, 2,
                                   10 * scenario.emergency_for * self.state.interval_ms)]
        if index == scenario.emergency_at + scenario.emergency_for:
            self.tally.log.append(f"#{index} {scenario.zone}: DSO gives the all-clear")
            return [self.sender.tx(dso, "balancing", "clear_emergency", scenario.zone)]
        return []

    # -- bills ----------------------------------------------------------------------------

    def bills(self, interval_start: int) -> list[SignedTx]:
        """Bills of the last ``bill_every`` intervals that are surely settled, for a
        few households per zone (issued by their DSO)."""
        interval = self.state.interval_ms
        end = interval_start - 2 * interval
        start = end - self.bill_every * interval
        if start < self.state.t0_ms:
            return []
        txs = []
        for zone in ZONES:
            dso = self.community.dso(zone)
            households = [m for m in self.community.by_role("household") if m.zone == zone]
            for member in households[:3]:
                txs.append(self.sender.tx(dso, "metering", "issue_bill", member.key.address,
                                          start, end))
                self.pending_bills.append((member.key.address, start, end))
        return txs

    def verify_bills(self) -> None:
        """Recompute issued bills from chain data, as `wattchain bill verify` does,
        and count them verified or mismatched; bills not on the chain yet wait."""
        still = []
        for account, start, end in self.pending_bills:
            data = {"account": format_address(account), "start_ms": start, "end_ms": end}
            try:
                stored = self.sender.client.query("metering/bill", **data)
            except RpcCallError:
                still.append((account, start, end))
                continue
            verdict = "bills_verified" if self.recompute_bill(stored, start, end) == stored \
                else "bills_mismatched"
            self.tally.counts[verdict] += 1
        self.pending_bills = still

    def recompute_bill(self, stored: dict[str, Any], start: int, end: int) -> Any:
        """The bill recomputed from the intervals, tariffs and trades on the chain."""
        client = self.sender.client

        def fetch(path: str, **query: Any) -> Any:
            return client.query("metering/" + path, **query)

        def fetch_trading(path: str, **query: Any) -> Any:
            return client.query("trading/" + path, **query)

        _, intervals = fetch_intervals(fetch, start, end, account=stored["account"])
        versions = fetch("tariffs", zone_id=stored["zone_id"])["versions"]
        trades = fetch_trades(fetch_trading, stored["account"], start, end) \
            if stored["p2p_trade_ids"] else []
        return recompute_bill(stored, intervals, versions, trades)
