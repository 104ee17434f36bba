"""Registering the demo community on the chain, in dependency phases.

Each phase signs its txs, sends them in batches over the validators and waits
until all are in blocks (``TxSender.commit``) before the next phase starts:

1. zones, then grid fees, interconnections, imbalance bounds and tariffs;
2. producer profiles;
3. assets with their equipment specs;
4. certifier attestations;
5. DSO grid-connection approvals;
6. renewable certificates, and meters registered by the meter operator;
7. meters commissioned, and batteries and EV chargers offered for dispatch.

Every phase is idempotent: it asks the chain what exists and signs only what
is missing, so a resumed demo skips what an earlier run did.
"""

from __future__ import annotations

import json
import random
from typing import Any

from wattchain.crypto import format_address
from wattchain.sim.community import (
    COMMISSIONED_MS,
    EV_W,
    ZONES,
    Asset,
    Community,
    Member,
)
from wattchain.sim.session import DemoState, TxSender
from wattchain.types import SignedTx

HOSTING_W = {"north": 1_500_000, "south": 2_000_000}
GRID_FEE = 20_000  # micro-units per kWh
LINK_W = 400_000  # between the zones, both ways
BOUNDS = (20_000, 400_000)  # imbalance price floor and ceiling
EVIDENCE = b"\x11" * 32  # the certifier's inspection report hash (kept off chain)
RENEWABLE = {"solar", "wind", "hydro", "biomass", "geothermal"}
CERTIFICATE_MS = 5 * 365 * 86_400_000  # validity of a demo certificate


class CommunitySetup:
    """The setup phases. ``asset_names`` (asset id -> "member kind") fills in as
    assets are found on the chain."""

    def __init__(self, sender: TxSender, community: Community, state: DemoState,
                 rng: random.Random) -> None:
        self.sender = sender
        self.community = community
        self.state = state
        self.rng = rng
        self.asset_names: dict[int, str] = {}

    def run(self, progress: Any = None) -> None:
        """Run every phase in order, showing each on a rich ``progress`` if given."""
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

    def commit(self, txs: list[SignedTx], what: str) -> None:
        if txs:
            self.sender.commit(txs, what)

    # -- phases ---------------------------------------------------------------------------

    def setup_zones(self) -> None:
        sender = self.sender
        if all(sender.exists("registration/zone", zone_id=zone) for zone in ZONES):
            return
        self.commit([sender.tx(self.community.dso(zone), "registration", "set_zone", zone,
                               f"{zone.title()} feeder", HOSTING_W[zone]) for zone in ZONES],
                    "zones")
        boundary = sender.next_boundary(self.state.interval_ms, 3)
        txs = []
        for zone, other in zip(ZONES, reversed(ZONES), strict=True):
            dso = self.community.dso(zone)
            txs += [sender.tx(dso, "trading", "set_grid_fee", zone, GRID_FEE),
                    sender.tx(dso, "trading", "set_interconnection", zone, other, LINK_W,
                              GRID_FEE // 2),
                    sender.tx(dso, "balancing", "set_imbalance_bounds", zone, *BOUNDS),
                    sender.tx(dso, "metering", "set_tariff", zone, boundary, 0, [5, 6], [],
                              [["day", 300_000, 80_000], ["night", 220_000, 60_000]],
                              [[1] * 7 + [0] * 15 + [1] * 2] * 3, 0)]
        self.commit(txs, "grid settings")

    def setup_producers(self) -> None:
        txs = []
        for member in self.community.members:
            if not member.assets or self.sender.exists(
                    "registration/producer", address=format_address(member.key.address)):
                continue
            kind = "household" if member.role == "household" else "community"
            txs.append(self.sender.tx(member, "registration", "register_producer",
                                      member.name.replace("-", " ").title(), kind,
                                      f"mailto:{member.name}@demo.wattchain.example",
                                      json.dumps({"zone": member.zone})))
        self.commit(txs, "producer profiles")

    def setup_assets(self) -> None:
        existing = self.chain_assets()
        txs = [self.add_asset_tx(member, index, asset)
               for member in self.community.members
               for index, asset in enumerate(member.assets)
               if asset.meter_id not in existing]
        self.commit(txs, "assets")
        self.bind_assets()

    def add_asset_tx(self, member: Member, index: int, asset: Asset) -> SignedTx:
        """``registration.add_asset`` of one asset, placed near the weather site."""
        site = self.community.data.site()
        specs = asset.specs
        latitude = int(site["latitude_micro"]) + self.rng.randint(-20_000, 20_000)
        longitude = int(site["longitude_micro"]) + self.rng.randint(-20_000, 20_000)
        return self.sender.tx(
            member, "registration", "add_asset", asset.kind, asset.capacity_w,
            asset.energy_wh, member.zone, f"CP-{member.name}-{index}", latitude, longitude,
            COMMISSIONED_MS, str(specs.get("manufacturer", "generic"))[:64],
            str(specs.get("model", asset.kind))[:64], f"SN-{asset.meter_id}",
            str(specs.get("inverter_model", ""))[:64],
            int(specs.get("unit_count", 1) or 1), asset.meter_id)  # type: ignore[call-overload]

    def setup_attestations(self) -> None:
        certifier = self.community.member("certifier")
        self.commit([self.sender.tx(certifier, "registration", "attest", item["asset_id"],
                                    item["revision"], EVIDENCE)
                     for _, _, item in self.assets_with_status("submitted")], "attestations")

    def setup_approvals(self) -> None:
        self.commit([self.sender.tx(self.community.dso(member.zone), "registration",
                                    "approve", item["asset_id"], item["revision"])
                     for member, _, item in self.assets_with_status("attested")], "approvals")

    def setup_meters(self) -> None:
        txs = self.certificate_txs()
        self.bind_assets()
        txs += self.meter_registration_txs()
        self.commit(txs, "certificates and meters")

    def setup_commissioning(self) -> None:
        txs = self.commissioning_txs() + self.flex_offer_txs()
        self.commit(txs, "commissioning and flexibility offers")

    # -- the txs of a phase ---------------------------------------------------------------

    def certificate_txs(self) -> list[SignedTx]:
        """An I-REC certificate for every active renewable asset that has none."""
        certifier = self.community.member("certifier")
        now = self.sender.chain_time_ms()
        txs = []
        for _, asset, item in self.assets_with_status("active"):
            if asset.kind in RENEWABLE and not self.sender.client.query(
                    "registration/asset", asset_id=item["asset_id"]).get("certifications"):
                txs.append(self.sender.tx(certifier, "registration", "certify",
                                          item["asset_id"], "I-REC", f"IREC-{asset.meter_id}",
                                          now - 86_400_000, now + CERTIFICATE_MS))
        return txs

    def meter_registration_txs(self) -> list[SignedTx]:
        """``metering.register_meter`` of every meter the chain does not know yet."""
        operator = self.community.member("meter-operator")
        txs = []
        for member, meter_id, meter_type, measured in self.community.meters():
            if self.sender.exists("metering/meter", meter_id=meter_id):
                continue
            power = measured.capacity_w if measured is not None else 25_000
            txs.append(self.sender.tx(
                operator, "metering", "register_meter", meter_id, meter_type,
                self.community.meter_key(meter_id).public_key, member.key.address,
                member.zone, 0 if measured is None else measured.asset_id, power * 2, False))
        return txs

    def commissioning_txs(self) -> list[SignedTx]:
        operator = self.community.member("meter-operator")
        return [self.sender.tx(operator, "metering", "commission", meter_id)
                for _, meter_id, _, _ in self.community.meters()
                if self.sender.client.query("metering/meter",
                                            meter_id=meter_id)["status"] != "active"]

    def flex_offer_txs(self) -> list[SignedTx]:
        """``balancing.offer_flex`` of every battery and EV charger not offered yet."""
        offers = self.sender.client.query("balancing/flex")["offers"]
        offered = {item["asset_id"] for item in offers}
        txs = []
        for member in self.community.members:
            for asset in member.assets:
                if asset.asset_id in offered or asset.kind not in ("storage", "flexible_load"):
                    continue
                if asset.kind == "storage":
                    txs.append(self.sender.tx(
                        member, "balancing", "offer_flex", asset.asset_id, asset.capacity_w,
                        asset.capacity_w, 920, asset.energy_wh // 5, asset.energy_wh // 2,
                        self.rng.randint(70_000, 140_000), self.rng.randint(5_000, 30_000), 3))
                else:
                    txs.append(self.sender.tx(
                        member, "balancing", "offer_flex", asset.asset_id, 0, EV_W, 1_000,
                        0, 0, self.rng.randint(90_000, 200_000), 0, 6))
        return txs

    # -- the chain's view of the assets ---------------------------------------------------

    def chain_assets(self) -> dict[str, dict[str, Any]]:
        """meter id -> the chain's view of every community asset registered."""
        found: dict[str, dict[str, Any]] = {}
        for member in self.community.members:
            if not member.assets:
                continue
            page = self.sender.client.query("registration/assets",
                                            owner=format_address(member.key.address))
            for item in page["assets"]:
                found[item["meter_id"]] = item
        return found

    def bind_assets(self) -> None:
        """Give every community asset its chain id (and a name for the dashboard)."""
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
