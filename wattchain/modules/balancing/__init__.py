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

What balancing needs from other modules is in ``expected``.
"""

from __future__ import annotations

from wattchain.modules.balancing import genesis, invariants
from wattchain.modules.balancing.expected import (
    Bank,
    GridRegistry,
    MarketSchedule,
    MeteredEnergy,
    OracleFeeds,
)
from wattchain.modules.balancing.handlers import BalancingHandlers
from wattchain.modules.balancing.keeper import BalancingKeeper
from wattchain.modules.balancing.process import Balancer
from wattchain.modules.balancing.queries import BalancingQueries
from wattchain.vm.interface import Context, RoleChecker
from wattchain.vm.module import BaseModule, methods_of

__all__ = ["BalancingModule"]


class BalancingModule(BaseModule[BalancingKeeper]):
    name = "balancing"

    def __init__(self, energy: MeteredEnergy, registry: GridRegistry, feeds: OracleFeeds,
                 market: MarketSchedule, bank: Bank, roles: RoleChecker) -> None:
        keeper = BalancingKeeper()
        self.balancer = Balancer(keeper, energy, registry, feeds, market, bank)
        super().__init__(
            keeper, genesis, invariants,
            handlers=methods_of(BalancingHandlers(keeper, registry, self.balancer, roles),
                                "set_imbalance_bounds", "offer_flex", "withdraw_flex",
                                "declare_emergency", "clear_emergency"),
            queries=methods_of(BalancingQueries(keeper), "params", "zone_status", "forecast",
                               "totals", "accuracy", "flex", "dispatch", "emergency",
                               "emergencies", "resilience"))

    def end_block(self, ctx: Context) -> None:
        self.balancer.process_due(ctx)
