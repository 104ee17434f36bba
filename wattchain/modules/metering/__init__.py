"""The metering module: meters with their own keys, signed readings relayed
by gateways, interval energy per meter, account and zone, time-of-use
tariffs and bills anyone can recompute.

* Meters: ``register_meter``, ``commission``, ``decommission``, ``rotate_key``
  (meter_operator; see ``handlers``).
* Readings: ``submit_readings [[reading, ...]]`` (anyone; see ``ingest``):
  each reading checked on its own, rejections reported as events, gaps
  estimated and replaced by backfilled readings (``spans``).
* Tariffs and bills: ``set_tariff`` (the zone's DSO), ``issue_bill`` (see
  ``bills``).
* end_block closes intervals (``interval_closed`` event); interval energy is
  kept up to date as readings arrive, so a late reading revises it.

Other modules read interval energy from ``module.energy`` (the keeper).
What metering needs from others is in ``expected``: roles from accounts,
assets from registration, and settled peer-to-peer trades for bills from
trading (attached after construction since trading needs ``module.energy``;
without it bills have no peer-to-peer lines).
"""

from __future__ import annotations

from wattchain.modules.metering import genesis, invariants
from wattchain.modules.metering.bills import BillingService
from wattchain.modules.metering.expected import AssetRegistry, RoleChecker, SettledTrades
from wattchain.modules.metering.handlers import BillingHandlers, MeterHandlers
from wattchain.modules.metering.ingest import ReadingHandlers
from wattchain.modules.metering.keeper import MeteringKeeper
from wattchain.modules.metering.queries import MeteringQueries
from wattchain.vm.interface import Context
from wattchain.vm.module import BaseModule, methods_of

__all__ = ["MeteringModule"]


class MeteringModule(BaseModule[MeteringKeeper]):
    name = "metering"

    def __init__(self, roles: RoleChecker, registry: AssetRegistry) -> None:
        keeper = MeteringKeeper()
        self.billing = BillingService(keeper)
        self.readings = ReadingHandlers(keeper)
        super().__init__(
            keeper, genesis, invariants,
            handlers={
                **methods_of(MeterHandlers(keeper, roles, registry), "register_meter",
                             "commission", "decommission", "rotate_key"),
                **methods_of(self.readings, "submit_readings"),
                **methods_of(BillingHandlers(keeper, roles, registry, self.billing), "set_tariff",
                             "issue_bill")},
            queries=methods_of(MeteringQueries(keeper, self.billing), "params", "meter", "meters",
                               "readings", "intervals", "tariffs", "band", "bill", "bills",
                               "verify_bill"))
        self.energy = keeper  # what trading and balancing read

    def attach_trades(self, trades: SettledTrades) -> None:
        """Let bills read settled peer-to-peer trades (wired once, before any block)."""
        self.billing.trades = trades

    def end_block(self, ctx: Context) -> None:
        self.readings.close_intervals(ctx)
