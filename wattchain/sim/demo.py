"""The demo community on a running testnet: set it up, then play it interval
by interval.

``Demo.setup()`` registers what the community needs, in dependency phases
(each phase's txs are sent in JSON-RPC batches spread over the validators
and awaited): zones, grid fees, links, imbalance bounds and tariffs; producer
profiles; assets with their equipment specs; certifier attestations, DSO
approvals and renewable certificates; meters (registered and commissioned
by the meter operator); flexibility offers of batteries and EV chargers.
It is idempotent: a resumed demo finds its accounts, assets and meters on
the chain and skips what is done.

``Demo.step()`` plays one interval, right after it starts:

* the gateway relays a signed reading of every meter at the boundary (what
  it measured in the interval that ended: demand, generation, and storage
  and EV charging as balancing dispatched them);
* three oracles submit the slot's weather, a wholesale price, the grid
  frequency and the emission factor for each zone;
* producers ask, and consumers bid, for the next interval from their
  forecasts (the profile with noise);
* at scripted intervals the north DSO declares its feeder islanded (severity 2)
  and later gives the all-clear;
* every ``bill_every`` intervals the DSOs issue bills of settled intervals,
  which the demo then recomputes from chain data (``bills_verified``).

``Demo.snapshot()`` reads the chain for the dashboard and the headless JSON
line. Everything the demo knows comes from the chain or the seeded profiles.
"""

from __future__ import annotations

import base64
import json
import random
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wattchain.client import RpcCallError, RpcClient
from wattchain.client.reports import fetch_intervals, fetch_trades, recompute_bill
from wattchain.crypto import PrivateKey, format_address
from wattchain.modules.metering.ingest import sign_reading
from wattchain.sim.community import (
    ASK_PRICES,
    COMMISSIONED_MS,
    SLOT_MS,
    ZONES,
    Asset,
    Community,
    Member,
)
from wattchain.types import SignedTx, Tx, sign_tx

BATCH = 100
HOSTING_W = {"north": 1_500_000, "south": 2_000_000}
GRID_FEE = 20_000  # micro-units per kWh
LINK_W = 400_000  # between the zones, both ways
BOUNDS = (20_000, 400_000)  # imbalance price floor and ceiling
EV_W = 7_400  # an EV charges at this power in the evening (sim time)
EVIDENCE = b"\x11" * 32  # the certifier's inspection report hash (kept off chain)


class DemoError(Exception):
    pass


@dataclass
class Scenario:
    """When the scripted emergency happens (interval indexes since the demo began)."""

    emergency_at: int = 6
    emergency_for: int = 4
    zone: str = "north"
    kind: str = "islanding"  # the feeder loses its upstream line: both directions matter


@dataclass
class MeterState:
    seq: int = 0
    import_wh: int = 0
    export_wh: int = 0
    import_rest: int = 0  # fractions of a Wh carried between intervals (over SLOT_MS)
    export_rest: int = 0


@dataclass
class DemoState:
    """Kept in ``<dir>/demo.json``: what a resumed demo needs beyond the chain."""

    seed: int
    households: int
    interval_ms: int
    t0_ms: int = 0  # start of interval 0 (slot 0 of the profiles)
    setup_done: bool = False

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.__dict__, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> DemoState | None:
        if not path.exists():
            return None
        return cls(**json.loads(path.read_text()))


@dataclass
class Tally:
    """What the demo saw happen, for the dashboard."""

    trades: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=8))
    dispatches: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=8))
    log: deque[str] = field(default_factory=lambda: deque(maxlen=6))
    txs: int = 0
    certificates: int = 0
    bills_verified: int = 0
    bills_mismatched: int = 0
    emergencies_declared: int = 0
    emergencies_cleared: int = 0


class Demo:
    def __init__(self, urls: list[str], community: Community, state: DemoState,
                 state_path: Path, scenario: Scenario | None = None,
                 bill_every: int = 4) -> None:
        self.clients = [RpcClient(url, timeout=30.0) for url in urls]
        self.community = community
        self.state = state
        self.state_path = state_path
        self.scenario = scenario or Scenario()
        self.bill_every = bill_every
        self.rng = random.Random(community.seed * 7919)
        self.chain_id = ""
        self.fee = 10
        self.nonces: dict[bytes, int] = {}
        self.meters: dict[str, MeterState] = {}
        self.tally = Tally()
        self.last_height = 0
        self.names = {format_address(m.key.address): m.name for m in community.members}
        self.asset_names: dict[int, str] = {}
        self.pending_bills: list[tuple[bytes, int, int]] = []
        self.refusal = ""
        self._next_client = 0

    @property
    def client(self) -> RpcClient:
        return self.clients[0]

    # -- txs ------------------------------------------------------------------------------

    def connect(self) -> None:
        status = self.client.call("status")
        self.chain_id = status["node_info"]["network"]
        self.fee = int(self.client.query("chain/params")["min_fee"])
        self.last_height = int(status["sync_info"]["latest_block_height"])

    def nonce(self, key: PrivateKey) -> int:
        if key.address not in self.nonces:
            account = self.client.query("accounts/account",
                                        address=format_address(key.address))
            self.nonces[key.address] = int(account["nonce"])
        value = self.nonces[key.address]
        self.nonces[key.address] = value + 1
        return value

    def tx(self, member: Member, module: str, method: str, *args: Any) -> SignedTx:
        return sign_tx(Tx(self.chain_id, member.key.address, self.nonce(member.key), self.fee,
                          module, method, list(args)), member.key)

    def broadcast(self, stxs: list[SignedTx]) -> list[SignedTx]:
        """Send in batches over the validators; return the txs the mempools took."""
        accepted = []
        for offset in range(0, len(stxs), BATCH):
            chunk = stxs[offset:offset + BATCH]
            client = self.clients[self._next_client % len(self.clients)]
            self._next_client += 1
            answers = client.call_batch_answers([("broadcast_tx_sync",
                                          {"tx": base64.b64encode(s.raw).decode()})
                                         for s in chunk])
            for stx, answer in zip(chunk, answers, strict=True):
                result = answer.get("result") if isinstance(answer, dict) else None
                if result is not None and result.get("code") == 0:
                    accepted.append(stx)
                else:  # refused: its nonce is free again (later txs of the sender fail)
                    self.nonces.pop(stx.tx.sender, None)
                    self.refusal = str(result.get("log") if result is not None else answer)
        return accepted

    def commit(self, stxs: list[SignedTx], what: str, timeout_s: float = 60.0
               ) -> list[dict[str, Any]]:
        """Broadcast and wait until every tx is in a block; raise if one failed."""
        accepted = self.broadcast(stxs)
        if len(accepted) != len(stxs):
            raise DemoError(f"{what}: the nodes refused {len(stxs) - len(accepted)} txs, "
                            f"e.g.: {self.refusal}")
        results: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + timeout_s
        while len(results) < len(accepted):
            if time.monotonic() > deadline:
                raise DemoError(f"{what}: {len(accepted) - len(results)} txs not committed "
                                f"in {timeout_s:.0f} s")
            time.sleep(0.3)
            waiting = [s for s in accepted if s.tx_id.hex() not in results]
            for offset in range(0, len(waiting), BATCH):
                chunk = waiting[offset:offset + BATCH]
                answers = self.client.call_batch_answers([("tx", {"hash": s.tx_id.hex()})
                                                  for s in chunk])
                for stx, answer in zip(chunk, answers, strict=True):
                    if isinstance(answer, dict) and "result" in answer:
                        results[stx.tx_id.hex()] = answer["result"]
        ordered = [results[s.tx_id.hex()] for s in accepted]
        failed = [r for r in ordered if r["tx_result"]["code"] != 0]
        if failed:
            raise DemoError(f"{what}: {len(failed)} txs failed, e.g. "
                            f"{failed[0]['tx_result']['log']}")
        return ordered

    # -- setup ----------------------------------------------------------------------------

    def setup(self, progress: Any = None) -> None:
        """Register the community (skipping what the chain already has)."""
        self.connect()
        phases = [("zones, fees, links, bounds, tariffs", self.setup_zones),
                  ("producer profiles", self.setup_producers),
                  ("assets with equipment specs", self.setup_assets),
                  ("attestations", self.setup_attestations),
                  ("grid connection approvals", self.setup_approvals),
                  ("certificates and meters", self.setup_meters),
                  ("meter commissioning and flexibility", self.setup_commissioning)]
        task = progress.add_task("setting up the community", total=len(phases)) \
            if progress is not None else None
        for label, phase in phases:
            if progress is not None:
                progress.update(task, description=f"community: {label}")
            phase()
            if progress is not None:
                progress.advance(task)
        self.load_chain_state()
        self.state.setup_done = True
        self.state.save(self.state_path)

    def exists(self, path: str, **data: Any) -> bool:
        """Whether a query finds its record (a zone, producer profile, meter)."""
        try:
            self.client.query(path, **data)
            return True
        except RpcCallError:
            return False

    def setup_zones(self) -> None:
        if all(self.exists("registration/zone", zone_id=zone) for zone in ZONES):
            return
        txs = [self.tx(self.community.dso(zone), "registration", "set_zone", zone,
                       f"{zone.title()} feeder", HOSTING_W[zone]) for zone in ZONES]
        self.commit(txs, "zones")
        boundary = self.next_boundary(3)
        txs = []
        for zone, other in zip(ZONES, reversed(ZONES), strict=True):
            dso = self.community.dso(zone)
            txs += [self.tx(dso, "trading", "set_grid_fee", zone, GRID_FEE),
                    self.tx(dso, "trading", "set_interconnection", zone, other, LINK_W,
                            GRID_FEE // 2),
                    self.tx(dso, "balancing", "set_imbalance_bounds", zone, *BOUNDS),
                    self.tx(dso, "metering", "set_tariff", zone, boundary, 0, [5, 6], [],
                            [["day", 300_000, 80_000], ["night", 220_000, 60_000]],
                            [[1] * 7 + [0] * 15 + [1] * 2] * 3, 0)]
        self.commit(txs, "grid settings")

    def setup_producers(self) -> None:
        txs = []
        for member in self.community.members:
            if not member.assets or self.exists("registration/producer",
                                                address=format_address(member.key.address)):
                continue
            kind = "household" if member.role == "household" else "community"
            txs.append(self.tx(member, "registration", "register_producer",
                               member.name.replace("-", " ").title(), kind,
                               f"mailto:{member.name}@demo.wattchain.example",
                               json.dumps({"zone": member.zone})))
        if txs:
            self.commit(txs, "producer profiles")

    def chain_assets(self) -> dict[str, dict[str, Any]]:
        """meter id -> the chain's view of every community asset registered."""
        found: dict[str, dict[str, Any]] = {}
        for member in self.community.members:
            if not member.assets:
                continue
            page = self.client.query("registration/assets",
                                     owner=format_address(member.key.address))
            for item in page["assets"]:
                found[item["meter_id"]] = item
        return found

    def setup_assets(self) -> None:
        existing = self.chain_assets()
        site = self.community.data.site()
        txs = []
        for member in self.community.members:
            for index, asset in enumerate(member.assets):
                if asset.meter_id in existing:
                    continue
                specs = asset.specs
                txs.append(self.tx(
                    member, "registration", "add_asset", asset.kind, asset.capacity_w,
                    asset.energy_wh, member.zone, f"CP-{member.name}-{index}",
                    int(site["latitude_micro"]) + self.rng.randint(-20_000, 20_000),
                    int(site["longitude_micro"]) + self.rng.randint(-20_000, 20_000),
                    COMMISSIONED_MS, str(specs.get("manufacturer", "generic"))[:64],
                    str(specs.get("model", asset.kind))[:64], f"SN-{asset.meter_id}",
                    str(specs.get("inverter_model", ""))[:64],
                    int(specs.get("unit_count", 1) or 1), asset.meter_id))  # type: ignore[call-overload]
        if txs:
            self.commit(txs, "assets")
        self.bind_assets()

    def bind_assets(self) -> None:
        existing = self.chain_assets()
        for member in self.community.members:
            for asset in member.assets:
                item = existing.get(asset.meter_id)
                if item is not None:
                    asset.asset_id = int(item["asset_id"])
                    self.asset_names[asset.asset_id] = f"{member.name} {asset.kind}"

    def assets_with_status(self, *statuses: str) -> list[tuple[Member, Asset, dict[str, Any]]]:
        existing = self.chain_assets()
        return [(member, asset, existing[asset.meter_id])
                for member in self.community.members for asset in member.assets
                if asset.meter_id in existing
                and existing[asset.meter_id]["status"] in statuses]

    def setup_attestations(self) -> None:
        certifier = self.community.member("certifier")
        txs = [self.tx(certifier, "registration", "attest", item["asset_id"], item["revision"],
                       EVIDENCE) for _, _, item in self.assets_with_status("submitted")]
        if txs:
            self.commit(txs, "attestations")

    def setup_approvals(self) -> None:
        txs = [self.tx(self.community.dso(member.zone), "registration", "approve",
                       item["asset_id"], item["revision"])
               for member, _, item in self.assets_with_status("attested")]
        if txs:
            self.commit(txs, "approvals")

    def setup_meters(self) -> None:
        certifier = self.community.member("certifier")
        operator = self.community.member("meter-operator")
        now = self.chain_time_ms()
        txs = []
        renewable = {"solar", "wind", "hydro", "biomass", "geothermal"}
        for _, asset, item in self.assets_with_status("active"):
            if asset.kind in renewable and not self.client.query(
                    "registration/asset", asset_id=item["asset_id"]).get("certifications"):
                txs.append(self.tx(certifier, "registration", "certify", item["asset_id"],
                                   "I-REC", f"IREC-{asset.meter_id}", now - 86_400_000,
                                   now + 5 * 365 * 86_400_000))
        self.bind_assets()
        for member, meter_id, meter_type, measured in self.community.meters():
            if self.exists("metering/meter", meter_id=meter_id):
                continue
            power = measured.capacity_w if measured is not None else 25_000
            txs.append(self.tx(operator, "metering", "register_meter", meter_id, meter_type,
                               self.community.meter_key(meter_id).public_key,
                               member.key.address, member.zone,
                               0 if measured is None else measured.asset_id, power * 2, False))
        if txs:
            self.commit(txs, "certificates and meters")

    def setup_commissioning(self) -> None:
        operator = self.community.member("meter-operator")
        txs = []
        for _, meter_id, _, _ in self.community.meters():
            if self.client.query("metering/meter", meter_id=meter_id)["status"] != "active":
                txs.append(self.tx(operator, "metering", "commission", meter_id))
        offers = self.client.query("balancing/flex")["offers"]
        offered = {item["asset_id"] for item in offers}
        for member in self.community.members:
            for asset in member.assets:
                if asset.asset_id in offered or asset.kind not in ("storage", "flexible_load"):
                    continue
                if asset.kind == "storage":
                    txs.append(self.tx(member, "balancing", "offer_flex", asset.asset_id,
                                       asset.capacity_w, asset.capacity_w, 920,
                                       asset.energy_wh // 5, asset.energy_wh // 2,
                                       self.rng.randint(70_000, 140_000),
                                       self.rng.randint(5_000, 30_000), 3))
                else:
                    txs.append(self.tx(member, "balancing", "offer_flex", asset.asset_id, 0,
                                       EV_W, 1_000, 0, 0, self.rng.randint(90_000, 200_000),
                                       0, 6))
        if txs:
            self.commit(txs, "commissioning and flexibility offers")

    def load_chain_state(self) -> None:
        """Meter registers and sequences as the chain has them (a resumed demo)."""
        self.bind_assets()
        for _, meter_id, _, _ in self.community.meters():
            meter = self.client.query("metering/meter", meter_id=meter_id)
            self.meters[meter_id] = MeterState(int(meter["last_seq"]), int(meter["import_wh"]),
                                               int(meter["export_wh"]))

    # -- time -----------------------------------------------------------------------------

    def chain_time_ms(self) -> int:
        status = self.client.call("status")
        return int(status["sync_info"]["latest_block_time_ms"])

    def next_boundary(self, ahead: int = 1) -> int:
        """An interval start ``ahead`` intervals after now (block time follows the
        validators' clocks; after a restart the newest block may be old)."""
        interval = self.state.interval_ms
        now = max(self.chain_time_ms(), int(time.time() * 1000))
        return (now // interval + ahead) * interval

    def slot(self, interval_start: int) -> int:
        return (interval_start - self.state.t0_ms) // self.state.interval_ms

    # -- one interval ---------------------------------------------------------------------

    def step(self, interval_start: int) -> None:
        """Play the interval that starts at ``interval_start`` (called just after it)."""
        index = self.slot(interval_start)
        txs = self.readings(interval_start)
        txs += self.oracle_submissions(interval_start)
        txs += self.orders(interval_start + self.state.interval_ms)
        txs += self.scenario_txs(index)
        if index > 0 and index % self.bill_every == 0:
            txs += self.bills(interval_start)
        self.broadcast(txs)

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
            signed.append(sign_reading(self.community.meter_key(meter_id), self.chain_id,
                                       meter_id, meter.seq, boundary, meter.import_wh,
                                       meter.export_wh))
        gateway = self.community.member("gateway")
        return [self.tx(gateway, "metering", "submit_readings", signed[i:i + 150])
                for i in range(0, len(signed), 150)]

    def advance_meter(self, meter: MeterState, member: Member, asset: Asset | None,
                      meter_type: str, ended: int, dispatch: dict[int, tuple[str, int]]
                      ) -> None:
        slot = self.slot(ended)
        interval = self.state.interval_ms
        if meter_type == "consumption":
            whole, rest = self.community.interval_wh(self.community.slot_wh(member, None, slot))
            meter.import_wh += whole
            meter.import_rest += rest
        elif meter_type == "production" and asset is not None:
            whole, rest = self.community.interval_wh(self.community.slot_wh(member, asset,
                                                                            slot))
            action, energy = dispatch.get(asset.asset_id, ("", 0))
            if action == "curtail_generation":  # the plant held back as instructed
                whole, rest = max(0, whole - energy), 0
            meter.export_wh += whole
            meter.export_rest += rest
        elif asset is not None:  # storage and EV charging follow the dispatch
            action, energy = dispatch.get(asset.asset_id, ("", 0))
            if meter_type == "storage":
                if action == "discharge":
                    meter.export_wh += energy * self.rng.randint(90, 100) // 100
                elif action == "charge":
                    meter.import_wh += energy * self.rng.randint(90, 100) // 100
            else:
                hour = self.community.data.slot_start(slot).hour
                charging = EV_W * interval // 3_600_000 if 17 <= hour < 23 else 0
                held = energy if action in ("curtail", "shed") else 0
                meter.import_wh += max(0, charging - held)
        for name in ("import", "export"):
            rest = getattr(meter, f"{name}_rest")
            if rest >= SLOT_MS:
                setattr(meter, f"{name}_wh", getattr(meter, f"{name}_wh") + rest // SLOT_MS)
                setattr(meter, f"{name}_rest", rest % SLOT_MS)

    def dispatched(self, interval_start: int) -> dict[int, tuple[str, int]]:
        """asset id -> (action, Wh) of what balancing dispatched in an interval."""
        found: dict[int, tuple[str, int]] = {}
        for zone in ZONES:
            try:
                record = self.client.query("balancing/dispatch", zone=zone,
                                           interval_start=interval_start)
            except RpcCallError:
                continue
            for item in record["items"]:
                if item["asset_id"]:
                    found[int(item["asset_id"])] = (item["action"], int(item["energy_wh"]))
        return found

    def wholesale(self, slot: int) -> int:
        """A day-ahead-like wholesale price (micro-units/kWh) with morning and
        evening peaks and a midday solar dip."""
        hour = self.community.data.slot_start(slot).hour
        shape = {7: 30, 8: 40, 9: 20, 12: -25, 13: -30, 14: -20, 18: 50, 19: 60, 20: 45,
                 21: 25}.get(hour, 0)
        return 95_000 + shape * 1_000 + (slot * 7_919 % 11) * 1_000

    def oracle_submissions(self, interval_start: int) -> list[SignedTx]:
        slot = self.slot(interval_start)
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
                    txs.append(self.tx(oracle, "oracle", "submit", feed, zone, round_index,
                                       value + jitter))
                txs.append(self.tx(oracle, "oracle", "submit", "grid_frequency", zone,
                                   round_index, 50_000 + self.rng.randint(-40, 40)))
        return txs

    def orders(self, delivery: int) -> list[SignedTx]:
        """Asks and bids for the interval starting at ``delivery``."""
        slot = self.slot(delivery)
        price = self.wholesale(slot)
        txs = []
        for member in self.community.members:
            for asset in member.assets:
                if asset.kind not in ASK_PRICES or not asset.asset_id:
                    continue
                forecast = self.forecast(member, asset, slot)
                if forecast > 0:
                    ask = ASK_PRICES[asset.kind] + self.rng.randint(0, 20_000)
                    txs.append(self.tx(member, "trading", "place_order", "sell", member.zone,
                                       delivery, forecast, ask, 0, 0, b"", asset.asset_id))
            if member.demand_profile:
                forecast = self.forecast(member, None, slot)
                if forecast > 0:
                    bid = price + self.rng.randint(20_000, 120_000)
                    renewable = int(member.role == "household" and self.rng.random() < 0.3)
                    txs.append(self.tx(member, "trading", "place_order", "buy", member.zone,
                                       delivery, forecast, bid, 0, renewable, b"", 0))
        return txs

    def forecast(self, member: Member, asset: Asset | None, slot: int) -> int:
        """The agent's own forecast of its interval energy: the profile +-10 %."""
        whole, _ = self.community.interval_wh(self.community.slot_wh(member, asset, slot))
        return whole * self.rng.randint(90, 110) // 100

    def scenario_txs(self, index: int) -> list[SignedTx]:
        scenario = self.scenario
        dso = self.community.dso(scenario.zone)
        if index == scenario.emergency_at:
            self.tally.log.append(f"#{index} {scenario.zone}: DSO declares {scenario.kind} "
                                  "(severity 2)")
            return [self.tx(dso, "balancing", "declare_emergency", scenario.zone, scenario.kind,
                            2, 10 * scenario.emergency_for * self.state.interval_ms)]
        if index == scenario.emergency_at + scenario.emergency_for:
            self.tally.log.append(f"#{index} {scenario.zone}: DSO gives the all-clear")
            return [self.tx(dso, "balancing", "clear_emergency", scenario.zone)]
        return []

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
                txs.append(self.tx(dso, "metering", "issue_bill", member.key.address, start,
                                   end))
                self.pending_bills.append((member.key.address, start, end))
        return txs

    def verify_bills(self) -> None:
        """Recompute issued bills from chain data, as `wattchain bill verify` does."""
        still = []
        for account, start, end in self.pending_bills:
            data = {"account": format_address(account), "start_ms": start, "end_ms": end}
            try:
                stored = self.client.query("metering/bill", **data)
            except RpcCallError:
                still.append((account, start, end))
                continue

            def fetch(path: str, **query: Any) -> Any:
                return self.client.query("metering/" + path, **query)

            def fetch_trading(path: str, **query: Any) -> Any:
                return self.client.query("trading/" + path, **query)

            _, intervals = fetch_intervals(fetch, start, end, account=stored["account"])
            versions = fetch("tariffs", zone_id=stored["zone_id"])["versions"]
            trades = fetch_trades(fetch_trading, stored["account"], start, end) \
                if stored["p2p_trade_ids"] else []
            if recompute_bill(stored, intervals, versions, trades) == stored:
                self.tally.bills_verified += 1
            else:
                self.tally.bills_mismatched += 1
        self.pending_bills = still

    # -- reading the chain ----------------------------------------------------------------

    def follow_blocks(self) -> None:
        """Fold the events of new blocks into the tally (trades, dispatches, ...)."""
        tip = int(self.client.call("status")["sync_info"]["latest_block_height"])
        heights = list(range(self.last_height + 1, tip + 1))[-200:]
        for offset in range(0, len(heights), 50):
            answers = self.client.call_batch_answers([("block_results", {"height": h})
                                              for h in heights[offset:offset + 50]])
            for answer in answers:
                result = answer.get("result") if isinstance(answer, dict) else None
                if result is not None:
                    self.tally.txs += len(result["txs_results"])
                    for tx_result in result["txs_results"]:
                        for event in tx_result["events"]:
                            self.fold_event(event)
                    for event in result["end_block_events"]:
                        self.fold_event(event)
        self.last_height = tip

    def fold_event(self, event: dict[str, Any]) -> None:
        kind, attributes = event["kind"], event["attributes"]
        if kind == "trade":
            self.tally.trades.appendleft({
                "zone": attributes.get("zone"),
                "buyer": self.names.get(str(attributes.get("buyer")), "?"),
                "seller": self.names.get(str(attributes.get("seller")), "?"),
                "wh": int(attributes.get("energy_wh", 0)),
                "price": int(attributes.get("price", 0))})
        elif kind == "flex_dispatch":
            asset_id = int(attributes.get("asset_id", 0))
            self.tally.dispatches.appendleft({
                "zone": attributes.get("zone"), "action": attributes.get("action"),
                "asset": self.asset_names.get(asset_id, attributes.get("peer") or "-"),
                "wh": int(attributes.get("energy_wh", 0)),
                "price": int(attributes.get("price", 0))})
        elif kind == "certificate_issued":
            self.tally.certificates += 1
        elif kind == "emergency" and event.get("module") == "balancing":
            action = attributes.get("action")
            if action == "declared":
                self.tally.emergencies_declared += 1
            elif action in ("cleared", "expired"):
                self.tally.emergencies_cleared += 1
            market = ("open", "capped", "suspended")[int(attributes.get("market", 0))]
            self.tally.log.append(f"{attributes.get('zone')}: emergency {action} "
                                  f"({attributes.get('kind')}, market {market})")

    def validators(self) -> list[dict[str, Any]]:
        rows = []
        for client in self.clients:
            try:
                status = client.call("status")
                sync, consensus = status["sync_info"], status.get("consensus", {})
                rows.append({"name": status["node_info"]["moniker"],
                             "height": sync["latest_block_height"],
                             "round": consensus.get("round", 0), "peers": status.get("peers", 0),
                             "app_hash": sync["latest_app_hash"], "up": True})
            except Exception:  # noqa: BLE001 - a node down is shown as down
                rows.append({"name": client.url, "up": False})
        return rows

    def app_hashes_agree(self) -> bool:
        """Every node's app hash at the lowest common height is the same."""
        heights = []
        for client in self.clients:
            heights.append(int(client.call("status")["sync_info"]["latest_block_height"]))
        common = min(heights)
        hashes = {client.call("block_results", height=common)["app_hash"]
                  for client in self.clients}
        return len(hashes) == 1

    def zone_view(self, zone: str, interval_start: int) -> dict[str, Any]:
        view: dict[str, Any] = {}
        try:
            clearing = self.client.query("trading/clearing", zone=zone,
                                         interval_start=interval_start)
            view["clearing_price"] = None if clearing["price"] < 0 else clearing["price"]
            view["cleared_wh"] = clearing["volume_wh"]
        except (RpcCallError, KeyError):
            view["clearing_price"], view["cleared_wh"] = None, 0
        try:  # the newest recorded interval (the one before, once its readings were in)
            status = self.client.query("balancing/zone_status", zone=zone)
            view.update({name: status[name] for name in (
                "import_wh", "export_wh", "imbalance_wh", "scheduled_wh", "flex_up_wh",
                "flex_down_wh")})
            view["recorded_interval"] = status["interval_start"]
            view["imbalance_price"] = status["price"]
            resilience = status.get("resilience") or {}
            view["soc_wh"] = resilience.get("storage_soc_wh", 0)
            view["storage_wh"] = resilience.get("storage_energy_wh", 0)
        except RpcCallError:
            pass
        try:
            dispatch = self.client.query("balancing/dispatch", zone=zone,
                                         interval_start=interval_start)
            view["forecast_imbalance_wh"] = dispatch["forecast_imbalance_wh"]
            view["dispatched_up_wh"], view["dispatched_down_wh"] = dispatch["up_wh"], \
                dispatch["down_wh"]
            view["curtailed_wh"] = sum(item["energy_wh"] for item in dispatch["items"]
                                       if item["action"] in ("curtail_generation", "shed"))
            view["shared_wh"] = sum(item["energy_wh"] for item in dispatch["items"]
                                    if item["action"] in ("share_in", "share_out"))
        except RpcCallError:
            pass
        emergency = self.client.query("balancing/emergency", zone=zone)
        view["market"] = emergency["market"]
        current = emergency["emergency"]
        view["emergency"] = None if current is None else {
            "kind": current["kind"], "severity": current["severity"],
            "expiry_ms": current["expiry_ms"]}
        return view

    def snapshot(self, interval_start: int, elapsed_s: float) -> dict[str, Any]:
        self.follow_blocks()
        self.verify_bills()
        index = self.slot(interval_start)
        validators = self.validators()
        height = max((int(v.get("height", 0)) for v in validators if v.get("up")), default=0)
        txs, self.tally.txs = self.tally.txs, 0
        return {
            "interval": index, "interval_start": interval_start,
            "interval_ms": self.state.interval_ms,
            "sim_time": self.community.data.slot_start(index).strftime("%Y-%m-%d %H:%M"),
            "height": height, "txs": txs, "tps": round(txs / max(elapsed_s, 0.001), 1),
            "validators": validators,
            "zones": {zone: self.zone_view(zone, interval_start) for zone in ZONES},
            "trades": list(self.tally.trades), "dispatches": list(self.tally.dispatches),
            "log": list(self.tally.log), "bills_verified": self.tally.bills_verified,
            "bills_mismatched": self.tally.bills_mismatched,
            "certificates": self.tally.certificates,
            "emergencies_declared": self.tally.emergencies_declared,
            "emergencies_cleared": self.tally.emergencies_cleared,
        }


def headless_line(snapshot: dict[str, Any], app_hashes_agree: bool) -> dict[str, Any]:
    """The JSON line of one interval in ``--headless`` mode."""
    zones = {}
    for zone, view in snapshot["zones"].items():
        zones[zone] = {
            "clearing_price": view.get("clearing_price"), "cleared_wh": view.get("cleared_wh"),
            "scheduled_wh": view.get("scheduled_wh"), "import_wh": view.get("import_wh"),
            "export_wh": view.get("export_wh"), "imbalance_wh": view.get("imbalance_wh"),
            "recorded_interval": view.get("recorded_interval"),
            "forecast_imbalance_wh": view.get("forecast_imbalance_wh"),
            "flex_up_wh": view.get("dispatched_up_wh"),
            "flex_down_wh": view.get("dispatched_down_wh"),
            "curtailed_wh": view.get("curtailed_wh"), "shared_wh": view.get("shared_wh"),
            "imbalance_price": view.get("imbalance_price"),
            "emergency": None if view.get("emergency") is None else view["emergency"]["kind"],
            "market": view.get("market")}
    return {"interval": snapshot["interval"], "interval_start": snapshot["interval_start"],
            "sim_time": snapshot["sim_time"], "height": snapshot["height"],
            "txs": snapshot["txs"], "zones": zones,
            "bills_verified": snapshot["bills_verified"],
            "bills_mismatched": snapshot["bills_mismatched"],
            "certificates": snapshot["certificates"],
            "emergencies_declared": snapshot["emergencies_declared"],
            "emergencies_cleared": snapshot["emergencies_cleared"],
            "app_hashes_agree": app_hashes_agree}
