"""Records, parameters and Protocols of the balancing module.

Energy in Wh, prices in micro-units per kWh, time in ms of block time,
ratios in per-mille. Floats never enter state.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Protocol

from wattchain.vm.state import Overlay, StateReader

DAY_MS = 86_400_000
MS_PER_HOUR = 3_600_000
PER_MILLE = 1_000
STANDARD_IRRADIANCE = 1_000  # W/m2 at which a solar asset yields its nameplate power

# How an interval's imbalance price was chosen (``pricing``).
RULE_NONE = "none"  # the zone's DSO set no bounds: balancing leaves trading's price alone
RULE_ORACLE = "oracle"
RULE_STALE_SHORT = "stale_short"
RULE_STALE_LONG = "stale_long"
RULES = (RULE_NONE, RULE_ORACLE, RULE_STALE_SHORT, RULE_STALE_LONG)


@dataclass
class BalancingParams:
    """Genesis parameters.

    * ``horizon``: intervals forecast ahead (K).
    * ``alpha_per_mille``: weight of the newest observation in exponential smoothing.
    * ``season_ms``: the seasonal lag (same time of day: one day).
    * ``retain_ms``: records older than this are pruned; at least ``season_ms``.
    * ``oracle_max_age_ms``: older oracle values count as stale.
    * ``price_factor_per_mille``: imbalance price = wholesale x factor / 1000.
    * ``max_catch_up``: intervals one end_block processes at most.
    """

    horizon: int = 4
    alpha_per_mille: int = 300
    season_ms: int = DAY_MS
    retain_ms: int = 2 * DAY_MS
    oracle_max_age_ms: int = MS_PER_HOUR
    price_factor_per_mille: int = 1_000
    max_catch_up: int = 8

    def to_list(self) -> list[int]:
        return [getattr(self, item.name) for item in fields(self)]

    def to_json(self) -> dict[str, int]:
        return {item.name: getattr(self, item.name) for item in fields(self)}


@dataclass
class IntervalRecord:
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

    @property
    def imbalance_wh(self) -> int:
        return self.import_wh - self.export_wh

    @property
    def schedule_deviation_wh(self) -> int:
        return self.export_wh - self.scheduled_wh

    def to_list(self) -> list[Any]:
        return [self.import_wh, self.export_wh, self.scheduled_wh, self.forecast_demand_wh,
                self.forecast_solar_wh, self.ape_per_mille, self.price, self.price_rule]


@dataclass
class Forecast:
    """Expected demand and solar supply of one future interval."""

    interval_start: int
    demand_wh: int
    solar_wh: int

    def to_list(self) -> list[int]:
        return [self.interval_start, self.demand_wh, self.solar_wh]


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


# -- what balancing asks of other modules --------------------------------------------


class ZoneEnergy(Protocol):
    @property
    def import_wh(self) -> int: ...

    @property
    def export_wh(self) -> int: ...


class MeteredEnergy(Protocol):
    """Metering's ``energy``."""

    def zone_energy(self, state: StateReader, zone_id: str, start_ms: int) -> ZoneEnergy: ...


class GridRegistry(Protocol):
    """Registration's keeper: zones, their operators and connected capacity."""

    def zone_ids(self, state: StateReader) -> list[str]: ...

    def zone_operator(self, state: StateReader, zone_id: str) -> bytes | None: ...

    def zone_capacity(self, state: StateReader, zone_id: str, asset_type: str,
                      at_ms: int) -> int: ...


class OracleFeeds(Protocol):
    def latest(self, state: StateReader, feed: str, zone: str, now_ms: int,
               max_age_ms: int) -> int | None: ...


class MarketSchedule(Protocol):
    """Trading's keeper: the cleared schedule and the imbalance price settlement uses."""

    def scheduled_wh(self, state: StateReader, zone: str, interval_start: int) -> int: ...

    def set_imbalance_price(self, state: Overlay, zone: str, price: int) -> None: ...
