"""The demo community: who is in it, their keys, assets and meters, and what
each meter measures in one chain interval.

Two grid zones, each with its DSO: households (BDEW H25 demand; some with
rooftop PV, a home battery or an EV charger), a business (G25), and plants —
a small hydro plant and a geothermal plant in ``north``, a wind turbine and a
biomass CHP in ``south``. A certifier, a meter operator with a gateway, and
three oracles complete it. Every key derives from the seed, so a demo run
again with the same seed finds the same accounts on its chain.

Time is accelerated: one chain interval (e.g. 15 s) plays one slot of the
real profiles (15 minutes). Power stays real, so the energy of a chain
interval is the slot's energy x ``interval_ms / slot_ms`` (a 5 kW PV array
yields in 15 s what it yields at that power): the chain's capacity,
plausibility and forecast rules hold unchanged.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from hashlib import sha256

from wattchain.crypto import PrivateKey
from wattchain.sim.data import CommunityData

ZONES = ("north", "south")
SLOT_MINUTES = 15
SLOT_MS = SLOT_MINUTES * 60_000
HOUSEHOLD_KWH = (2_500, 3_500, 4_500)  # annual demand classes of households
WIND_TURBINE = "E-53/800"
COMMISSIONED_MS = 1_704_067_200_000  # 2024-01-01: every asset was installed before the demo
EV_W = 7_400  # an EV charges at this power in the evening (sim time)

# Ask prices of producers (micro-units per kWh): near their marginal cost.
ASK_PRICES = {"solar": 40_000, "wind": 50_000, "hydro": 60_000, "geothermal": 70_000,
              "biomass": 110_000}


def derive_key(seed: int, name: str) -> PrivateKey:
    return PrivateKey(sha256(f"wattchain-demo/{seed}/{name}".encode()).digest())


@dataclass
class Asset:
    """One asset of a member and the meter that measures it."""

    kind: str  # solar | wind | hydro | biomass | geothermal | storage | flexible_load
    capacity_w: int
    meter_id: str
    meter_type: str  # production | storage | ev_charger
    energy_wh: int = 0  # storage only
    specs: dict[str, object] = field(default_factory=dict)
    asset_id: int = 0  # on chain, once registered


@dataclass
class Member:
    """An account of the community: a household, business, plant or service."""

    name: str
    role: str  # household | business | plant | dso | certifier | meter_operator | gateway | oracle
    zone: str
    key: PrivateKey
    demand_profile: str = ""  # BDEW profile of its consumption meter, "" when none
    annual_kwh: int = 0
    assets: list[Asset] = field(default_factory=list)

    @property
    def consumption_meter(self) -> str:
        return f"{self.name}-load" if self.demand_profile else ""


class Community:
    """The members and the energy each meter measures per chain interval."""

    def __init__(self, seed: int = 7, households: int = 40, interval_ms: int = 15_000,
                 data: CommunityData | None = None) -> None:
        self.seed = seed
        self.interval_ms = interval_ms
        self.data = data or CommunityData(slot_minutes=SLOT_MINUTES, seed=seed)
        self.members: list[Member] = []
        rng = random.Random(seed)
        for zone in ZONES:
            self.add_service(f"dso-{zone}", "dso", zone)
        self.add_service("certifier", "certifier", ZONES[0])
        self.add_service("meter-operator", "meter_operator", ZONES[0])
        self.add_service("gateway", "gateway", ZONES[0])
        for index in range(3):
            self.add_service(f"oracle-{index + 1}", "oracle", ZONES[0])
        for index in range(households):
            self.add_household(index, ZONES[index % len(ZONES)], rng)
        self.add_business("supermarket", "north", 250_000)
        self.add_business("school", "south", 120_000)
        self.add_plant("hydro-mill", "north", "hydro", 25_000,
                       {"manufacturer": "Ossberger", "model": "Crossflow 25",
                        "inverter_model": "", "unit_count": 1})
        self.add_plant("geo-heat", "north", "geothermal", 15_000,
                       {"manufacturer": "Ormat", "model": "ORC micro 15",
                        "inverter_model": "", "unit_count": 1})
        wind = self.data.wind_specs(WIND_TURBINE)
        self.add_plant("wind-coop", "south", "wind", int(wind["nameplate_w"]), wind)
        self.add_plant("biomass-chp", "south", "biomass", 20_000,
                       {"manufacturer": "Spanner", "model": "HKA 20",
                        "inverter_model": "", "unit_count": 1})

    # -- building --------------------------------------------------------------------

    def add_service(self, name: str, role: str, zone: str) -> None:
        self.members.append(Member(name, role, zone, derive_key(self.seed, name)))

    def add_household(self, index: int, zone: str, rng: random.Random) -> None:
        name = f"house-{index + 1:02d}"
        member = Member(name, "household", zone, derive_key(self.seed, name), "H25",
                        rng.choice(HOUSEHOLD_KWH))
        pair = index // 2  # households alternate zones; each pair is equipped alike
        if pair % 2 == 0:  # half have rooftop PV
            modules = rng.choice((10, 12, 14, 16))
            specs = self.data.pv_system(name, modules, tilt_deg=rng.choice((20, 30, 35)),
                                        azimuth_deg=rng.choice((160, 180, 200)))
            member.assets.append(Asset("solar", int(specs["nameplate_w"]), f"{name}-pv",
                                       "production", specs=specs))
        if pair % 4 == 0:  # a quarter have a home battery
            member.assets.append(Asset("storage", 5_000, f"{name}-bat", "storage", 10_000, {
                "manufacturer": "BYD", "model": "Battery-Box Premium HVS 10.2",
                "inverter_model": "SMA Sunny Boy Storage 5.0", "unit_count": 4}))
        if pair % 4 == 1:  # another quarter charge an EV at home
            member.assets.append(Asset("flexible_load", 11_000, f"{name}-ev", "ev_charger",
                                       specs={"manufacturer": "ABB", "model": "Terra AC W11",
                                              "inverter_model": "", "unit_count": 1}))
        self.members.append(member)

    def add_business(self, name: str, zone: str, annual_kwh: int) -> None:
        self.members.append(Member(name, "business", zone, derive_key(self.seed, name), "G25",
                                   annual_kwh))

    def add_plant(self, name: str, zone: str, kind: str, capacity_w: int,
                  specs: dict[str, object]) -> None:
        member = Member(name, "plant", zone, derive_key(self.seed, name))
        member.assets.append(Asset(kind, capacity_w, f"{name}-gen", "production", specs=specs))
        self.members.append(member)

    # -- lookups ---------------------------------------------------------------------

    def by_role(self, role: str) -> list[Member]:
        return [m for m in self.members if m.role == role]

    def member(self, name: str) -> Member:
        return next(m for m in self.members if m.name == name)

    def dso(self, zone: str) -> Member:
        return self.member(f"dso-{zone}")

    def meter_key(self, meter_id: str) -> PrivateKey:
        return derive_key(self.seed, "meter/" + meter_id)

    def meters(self) -> list[tuple[Member, str, str, Asset | None]]:
        """(member, meter id, meter type, asset) of every meter."""
        found: list[tuple[Member, str, str, Asset | None]] = []
        for member in self.members:
            if member.demand_profile:
                found.append((member, member.consumption_meter, "consumption", None))
            found += [(member, asset.meter_id, asset.meter_type, asset) for asset in member.assets]
        return found

    # -- energy per chain interval (in Wh over one slot; scaled by ``scale``) ------------

    def slot_wh(self, member: Member, asset: Asset | None, slot: int) -> int:
        """What a meter measures in one real slot: demand of a consumption meter,
        the output of a generator (storage and EV charging are driven elsewhere)."""
        data = self.data
        if asset is None:
            return data.demand_wh(member.demand_profile, member.annual_kwh, slot)
        unit = sum(ord(c) for c in member.name)
        if asset.kind == "solar":
            return data.pv_wh(member.name, slot)
        if asset.kind == "wind":
            return data.wind_wh(WIND_TURBINE, slot)
        if asset.kind == "hydro":
            return data.hydro_wh(asset.capacity_w, slot, unit)
        if asset.kind == "biomass":
            return data.biomass_wh(asset.capacity_w, slot, unit)
        if asset.kind == "geothermal":
            return data.geothermal_wh(asset.capacity_w, slot, unit)
        return 0

    def interval_wh(self, slot_wh: int) -> tuple[int, int]:
        """A slot's energy scaled to one chain interval, as (whole Wh, remainder
        numerator over ``SLOT_MS``) so callers carry the fraction forward."""
        return divmod(slot_wh * self.interval_ms, SLOT_MS)
