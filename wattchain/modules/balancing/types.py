"""Records and parameters of the balancing module.

Energy in Wh, prices in micro-units per kWh, time in ms of block time,
ratios in per-mille. Floats never enter state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wattchain.vm.records import Record

DAY_MS = 86_400_000
MS_PER_HOUR = 3_600_000
PER_MILLE = 1_000
STANDARD_IRRADIANCE = 1_000  # W/m2 at which a solar asset yields its nameplate power

# How an interval's imbalance price was chosen (``pricing``).
RULE_NONE = "none"  # the zone's DSO set no bounds: balancing leaves trading's price alone
RULE_ORACLE = "oracle"
RULE_STALE_SHORT = "stale_short"
RULE_STALE_LONG = "stale_long"
RULE_FLEX = "flex"  # the marginal price of the flexibility dispatched for the interval
RULES = (RULE_NONE, RULE_ORACLE, RULE_STALE_SHORT, RULE_STALE_LONG, RULE_FLEX)

# Flexible assets (registration asset types) and what dispatch tells them to do.
STORAGE = "storage"
FLEX_LOAD = "flexible_load"
FLEX_TYPES = (STORAGE, FLEX_LOAD)
DISCHARGE = "discharge"  # storage feeds the grid: up flexibility
CHARGE = "charge"  # storage absorbs surplus: down flexibility
CURTAIL = "curtail"  # a flexible load draws less: up flexibility
SHED = "shed"  # emergency: a load is disconnected (unpaid)
CURTAIL_GENERATION = "curtail_generation"  # emergency: a generator is held back (unpaid)
SHARE_IN = "share_in"  # emergency: a neighbouring zone sends energy over its link
SHARE_OUT = "share_out"  # emergency: surplus sent to a neighbouring zone
PAID_ACTIONS = frozenset({DISCHARGE, CHARGE, CURTAIL})
ACTIONS = (DISCHARGE, CHARGE, CURTAIL, SHED, CURTAIL_GENERATION, SHARE_IN, SHARE_OUT)

# Emergencies: kinds, severities, and what a zone's market may do meanwhile.
SHORTAGE = "shortage"
OVERLOAD = "overload"
ISLANDING = "islanding"
EMERGENCY_KINDS = (SHORTAGE, OVERLOAD, ISLANDING)
MAX_SEVERITY = 3
MARKET_OPEN = 0
MARKET_CAPPED = 1
MARKET_SUSPENDED = 2
# Generation is curtailed in this published order of asset types, then largest first.
CURTAILMENT_ORDER = ("solar", "wind", "biomass", "hydro", "geothermal")
FIRM_TYPES = ("hydro", "biomass", "geothermal")
CRITICAL = 0  # the priority class of critical loads: shed last, and only at severity 3


@dataclass
class BalancingParams(Record):
    """Genesis parameters.

    * ``horizon``: intervals forecast ahead (K).
    * ``alpha_per_mille``: weight of the newest observation in exponential smoothing.
    * ``season_ms``: the seasonal lag (same time of day: one day).
    * ``retain_ms``: records older than this are pruned; at least ``season_ms``.
    * ``oracle_max_age_ms``: older oracle values count as stale.
    * ``price_factor_per_mille``: imbalance price = wholesale x factor / 1000.
    * ``max_catch_up``: intervals one end_block processes at most.
    * ``record_delay_ms``: an interval is recorded, its flexibility paid and
      state of charge updated this long after it ended (late meter readings);
      keep it below trading's ``settlement_delay_ms``.
    * ``firm_per_mille``: share of hydro, biomass and geothermal nameplate
      power counted as forecast supply.
    * ``deadband_wh``: forecast imbalances this small dispatch nothing.
    * ``frequency_low_mhz`` / ``frequency_high_mhz``: a fresh grid frequency
      feed (at most ``frequency_max_age_ms`` old) outside them declares an
      automatic emergency lasting ``auto_emergency_ms``.
    * ``emergency_cap``: the market price cap (micro-units/kWh) of a severity-1
      emergency in a zone whose DSO set no imbalance bounds.
    """

    horizon: int = 4
    alpha_per_mille: int = 300
    season_ms: int = DAY_MS
    retain_ms: int = 2 * DAY_MS
    oracle_max_age_ms: int = MS_PER_HOUR
    price_factor_per_mille: int = 1_000
    max_catch_up: int = 8
    record_delay_ms: int = 0
    firm_per_mille: int = 800
    deadband_wh: int = 0
    frequency_low_mhz: int = 49_800
    frequency_high_mhz: int = 50_200
    frequency_max_age_ms: int = 60_000
    auto_emergency_ms: int = 3_600_000
    emergency_cap: int = 500_000


@dataclass
class IntervalRecord(Record):
    """Supply and demand of one (zone, interval), written once the interval ended.

    * ``import_wh``: metered demand, energy the zone's meters drew from the grid.
    * ``export_wh``: metered supply, energy the zone's meters fed into the grid.
    * ``scheduled_wh``: energy of the trades cleared for the zone and interval.
    * ``imbalance_wh`` = import - export: positive when the zone is short (the
      upstream grid covered it), negative when long.
    * ``schedule_deviation_wh`` = export - scheduled: local supply beyond (+) or
      short of (-) what the market scheduled.
    * ``forecast_demand_wh`` / ``forecast_solar_wh``: the newest forecast made
      for this interval before it started (-1 when there was none).
    * ``ape_per_mille``: |import - forecast| x 1000 / import, -1 when unscored.
    * ``price`` / ``price_rule``: the imbalance price balancing set (``pricing``).
    """

    import_wh: int
    export_wh: int
    scheduled_wh: int
    forecast_demand_wh: int = -1
    forecast_solar_wh: int = -1
    ape_per_mille: int = -1
    price: int = 0
    price_rule: str = RULE_NONE
    forecast_wind_wh: int = -1

    @property
    def imbalance_wh(self) -> int:
        return self.import_wh - self.export_wh

    @property
    def schedule_deviation_wh(self) -> int:
        return self.export_wh - self.scheduled_wh


@dataclass
class Forecast(Record):
    """Expected demand and supply of one future interval: solar, wind and the
    firm share of hydro, biomass and geothermal (``forecast``)."""

    interval_start: int
    demand_wh: int
    solar_wh: int
    wind_wh: int = 0
    firm_wh: int = 0

    @property
    def supply_wh(self) -> int:
        return self.solar_wh + self.wind_wh + self.firm_wh

    @property
    def imbalance_wh(self) -> int:
        """Positive: the zone is expected short (demand above local supply)."""
        return self.demand_wh - self.supply_wh


@dataclass
class FlexAsset(Record):
    """A storage or flexible-load asset its owner offers for balancing.

    Storage: ``energy_wh`` capacity, state of charge ``soc_wh`` (kept within
    0..energy_wh), charge and discharge power limits, round-trip efficiency
    (applied on charging: a charged Wh stores ``efficiency/1000`` Wh) and a
    ``reserve_wh`` kept for emergencies. A flexible load: ``max_discharge_w``
    is its curtailable power; charge limits, energy and reserve are 0.
    ``price_up`` / ``price_down``: micro-units per kWh asked for up (discharge,
    curtail) and down (charge) flexibility. ``priority``: its class in the
    published shedding order (higher is shed first; 0 = critical, shed last).
    """

    owner: bytes
    asset_type: str
    zone: str
    meter_id: str
    energy_wh: int
    max_charge_w: int
    max_discharge_w: int
    efficiency_per_mille: int
    reserve_wh: int
    soc_wh: int
    price_up: int
    price_down: int
    priority: int

    @classmethod
    def from_list(cls, raw: list[Any]) -> FlexAsset:
        return cls(*raw)


@dataclass
class DispatchItem(Record):
    """One instruction of an interval's dispatch, and (once metered) its outcome.

    ``target`` is an asset id, or 0 for a share with the neighbouring zone
    ``peer``. ``delivered_wh`` is -1 until the interval is recorded.
    """

    action: str
    target: int
    energy_wh: int
    price: int
    peer: str = ""
    delivered_wh: int = -1
    paid: int = 0


@dataclass
class DispatchRecord:
    """What balancing did at the start of one (zone, interval)."""

    forecast_imbalance_wh: int
    emergency: str  # the emergency kind in force, "" when none
    items: list[DispatchItem] = field(default_factory=list)
    marginal_price: int = -1  # the price of the last paid flexibility dispatched; -1 none
    settled: bool = False

    @property
    def up_wh(self) -> int:
        return sum(i.energy_wh for i in self.items if i.action in (DISCHARGE, CURTAIL))

    @property
    def down_wh(self) -> int:
        return sum(i.energy_wh for i in self.items if i.action == CHARGE)

    def to_list(self) -> list[Any]:
        return [self.forecast_imbalance_wh, self.emergency,
                [item.to_list() for item in self.items], self.marginal_price,
                int(self.settled)]

    @classmethod
    def from_list(cls, raw: list[Any]) -> DispatchRecord:
        imbalance, emergency, items, marginal, settled = raw
        return cls(imbalance, emergency, [DispatchItem(*item) for item in items], marginal,
                   bool(settled))


@dataclass
class Emergency(Record):
    """A zone's emergency in force. ``declared_by`` is the DSO, or empty bytes
    for one declared automatically from the grid frequency feed."""

    kind: str
    severity: int
    declared_ms: int
    expiry_ms: int
    declared_by: bytes

    @property
    def automatic(self) -> bool:
        return self.declared_by == b""


@dataclass
class LogEntry(Record):
    """One step of a zone's emergency record: declared, updated, cleared, expired."""

    action: str
    kind: str
    severity: int
    height: int
    time_ms: int
    by: bytes
    expiry_ms: int
    reason: str


@dataclass
class ZoneModel:
    """The forecasting state of one zone.

    ``level`` smooths metered demand; ``offset`` smooths demand minus the value
    one season earlier (``has_offset`` once one such pair was seen).
    ``ape_sum`` / ``scored`` accumulate absolute percentage errors (per-mille).
    """

    level: int = 0
    offset: int = 0
    observed: int = 0
    has_offset: bool = False
    ape_sum: int = 0
    scored: int = 0
    forecasts: list[Forecast] = field(default_factory=list)

    @property
    def mape_per_mille(self) -> int | None:
        return None if self.scored == 0 else self.ape_sum // self.scored

    def to_list(self) -> list[Any]:
        return [self.level, self.offset, self.observed, int(self.has_offset), self.ape_sum,
                self.scored, [item.to_list() for item in self.forecasts]]

    @classmethod
    def from_list(cls, raw: list[Any]) -> ZoneModel:
        level, offset, observed, has_offset, ape_sum, scored, forecasts = raw
        return cls(level, offset, observed, bool(has_offset), ape_sum, scored,
                   [Forecast(*item) for item in forecasts])
