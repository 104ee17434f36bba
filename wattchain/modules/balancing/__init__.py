"""The balancing module: supply and demand per grid zone and interval,
integer forecasts, automated dispatch of storage and flexible loads,
emergencies, the zone's imbalance price and resilience figures.

* Once an interval has ended (block time), each registered zone gets a record
  under ``bal/r/``: metered import and export (metering), the cleared
  schedule (trading), the forecast made for it and its error, and the
  imbalance price chosen (``process``).
* Forecasts of the next ``horizon`` intervals: demand by exponential
  smoothing with a same-time-of-day seasonal term; solar from capacity x
  irradiance, wind from a power curve, firm hydro/biomass/geothermal
  (``forecast``).
* Flexibility offered by asset owners (``offer_flex``) is dispatched at the
  start of each interval in merit order against the forecast imbalance and
  paid by the zone's DSO after metering (``flex``, ``dispatch``).
* Imbalance price inside DSO bounds (``set_imbalance_bounds``): the marginal
  dispatched price, else the wholesale feed, else the floor/ceiling rule
  (``pricing``); written to trading per interval for settlement.
* Emergencies declared by the DSO or from the frequency feed suspend or cap
  the zone's market, release reserves, share with neighbours and shed or
  curtail by a published priority (``emergency``).
* Resilience figures per zone (``resilience``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wattchain.modules.balancing import genesis, invariants
from wattchain.modules.balancing.handlers import BalancingHandlers
from wattchain.modules.balancing.keeper import BalancingKeeper
from wattchain.modules.balancing.process import Balancer
from wattchain.modules.balancing.queries import BalancingQueries
from wattchain.modules.balancing.types import (
    Bank,
    GridRegistry,
    MarketSchedule,
    MeteredEnergy,
    OracleFeeds,
)
from wattchain.vm.interface import Context, Handler, Query
from wattchain.vm.state import Overlay, StateReader

__all__ = ["BalancingModule", "GridRegistry", "MarketSchedule", "MeteredEnergy"]


class BalancingModule:
    name = "balancing"

    def __init__(self, energy: MeteredEnergy, registry: GridRegistry, feeds: OracleFeeds,
                 market: MarketSchedule, bank: Bank) -> None:
        self.keeper = BalancingKeeper()
        self.balancer = Balancer(self.keeper, energy, registry, feeds, market, bank)
        handlers = BalancingHandlers(self.keeper, registry, self.balancer)
        queries = BalancingQueries(self.keeper)
        self.handlers: Mapping[str, Handler] = {
            "set_imbalance_bounds": handlers.set_imbalance_bounds,
            "offer_flex": handlers.offer_flex,
            "withdraw_flex": handlers.withdraw_flex,
            "declare_emergency": handlers.declare_emergency,
            "clear_emergency": handlers.clear_emergency,
        }
        self.queries: Mapping[str, Query] = {
            "params": queries.params,
            "zone_status": queries.zone_status,
            "forecast": queries.forecast,
            "totals": queries.totals,
            "accuracy": queries.accuracy,
            "flex": queries.flex,
            "dispatch": queries.dispatch,
            "emergency": queries.emergency,
            "emergencies": queries.emergencies,
            "resilience": queries.resilience,
        }

    def init_genesis(self, state: Overlay, section: Mapping[str, Any]) -> None:
        genesis.init_genesis(self.keeper, state, section)

    def export_genesis(self, state: StateReader) -> dict[str, Any]:
        return genesis.export_genesis(self.keeper, state)

    def end_block(self, ctx: Context) -> None:
        self.balancer.process_due(ctx)

    def check_invariants(self, state: StateReader) -> list[str]:
        return invariants.check_all(self.keeper, state)
