"""The balancing module (first cut): supply and demand per grid zone and
interval, integer forecasts, and the zone's imbalance price.

* Once an interval has ended (block time), each registered zone gets a record
  under ``bal/r/``: metered import and export (metering), the cleared
  schedule (trading), the forecast made for it and its error, and the
  imbalance price chosen (``process``).
* Forecasts of the next ``horizon`` intervals: demand by exponential
  smoothing with a same-time-of-day seasonal term; solar from active solar
  capacity x irradiance (``forecast``).
* Imbalance price inside DSO bounds (``set_imbalance_bounds``), from the
  wholesale price feed or, when it is stale, the floor/ceiling rule
  (``pricing``); written to trading for settlement.

Storage and demand-response dispatch, emergencies and resilience come later.
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
                 market: MarketSchedule) -> None:
        self.keeper = BalancingKeeper()
        self.balancer = Balancer(self.keeper, energy, registry, feeds, market)
        handlers = BalancingHandlers(self.keeper, registry)
        queries = BalancingQueries(self.keeper)
        self.handlers: Mapping[str, Handler] = {
            "set_imbalance_bounds": handlers.set_imbalance_bounds,
        }
        self.queries: Mapping[str, Query] = {
            "params": queries.params,
            "zone_status": queries.zone_status,
            "forecast": queries.forecast,
            "totals": queries.totals,
            "accuracy": queries.accuracy,
        }

    def init_genesis(self, state: Overlay, section: Mapping[str, Any]) -> None:
        genesis.init_genesis(self.keeper, state, section)

    def export_genesis(self, state: StateReader) -> dict[str, Any]:
        return genesis.export_genesis(self.keeper, state)

    def end_block(self, ctx: Context) -> None:
        self.balancer.process_due(ctx)

    def check_invariants(self, state: StateReader) -> list[str]:
        return invariants.check_all(self.keeper, state)
