"""The metering module: meters with their own keys, signed readings relayed
by gateways, interval energy per meter, account and zone, time-of-use
tariffs and bills anyone can recompute.

* Meters: ``register_meter``, ``commission``, ``decommission``, ``rotate_key``
  (meter_operator; see ``handlers``).
* Readings: ``submit_readings [[reading, ...]]`` (anyone; see ``ingest``):
  each reading checked on its own, rejections reported as events, gaps
  estimated and replaced by backfilled readings (``spans``).
* end_block closes intervals (``interval_closed`` event); interval energy is
  kept up to date as readings arrive, so a late reading revises it.

Other modules ask through ``MeteredEnergy`` (``module.energy``). Roles come
from the accounts module (``RoleChecker``), assets from registration
(``ProducerRegistry``), settled peer-to-peer trades for bills from trading
(``SettledTrades``, attached after construction since trading needs
``module.energy``; without it bills have no peer-to-peer lines).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wattchain.modules.metering import genesis, invariants
from wattchain.modules.metering.bills import BillingService
from wattchain.modules.metering.handlers import MeterHandlers
from wattchain.modules.metering.ingest import ReadingHandlers
from wattchain.modules.metering.keeper import MeteringKeeper
from wattchain.modules.metering.queries import MeteringQueries
from wattchain.modules.metering.spans import interval_start
from wattchain.modules.metering.types import (
    MeteredEnergy,
    ProducerRegistry,
    RoleChecker,
    SettledTrades,
)
from wattchain.vm.interface import Context, Handler, Query
from wattchain.vm.state import Overlay, StateReader

__all__ = ["MeteringModule", "MeteredEnergy", "SettledTrades"]


class MeteringModule:
    name = "metering"

    def __init__(self, roles: RoleChecker, registry: ProducerRegistry) -> None:
        self.keeper = MeteringKeeper()
        self.energy: MeteredEnergy = self.keeper
        meters = MeterHandlers(self.keeper, roles, registry)
        readings = ReadingHandlers(self.keeper)
        queries = MeteringQueries(self.keeper)
        billing = self.billing = BillingService(self.keeper, roles)
        self.handlers: Mapping[str, Handler] = {
            "register_meter": meters.register_meter,
            "commission": meters.commission,
            "decommission": meters.decommission,
            "rotate_key": meters.rotate_key,
            "submit_readings": readings.submit_readings,
            "set_tariff": billing.set_tariff,
            "issue_bill": billing.issue_bill,
        }
        self.queries: Mapping[str, Query] = {
            "params": queries.params,
            "meter": queries.meter,
            "meters": queries.meters,
            "readings": queries.readings,
            "intervals": queries.intervals,
            "tariffs": billing.tariffs,
            "band": billing.band,
            "bill": billing.bill,
            "bills": billing.bills,
            "verify_bill": billing.verify_bill,
        }

    def attach_trades(self, trades: SettledTrades) -> None:
        """Let bills read settled peer-to-peer trades (wired once, before any block)."""
        self.billing.trades = trades

    def init_genesis(self, state: Overlay, section: Mapping[str, Any]) -> None:
        genesis.init_genesis(self.keeper, state, section)

    def export_genesis(self, state: StateReader) -> dict[str, Any]:
        return genesis.export_genesis(self.keeper, state)

    def end_block(self, ctx: Context) -> None:
        """Close every interval that ended by this block's time (once there are meters:
        a chain without them writes nothing here)."""
        if next(self.keeper.iterate_meters(ctx.state), None) is None:
            return
        current = interval_start(ctx.time_ms, ctx.params.interval_ms)
        closed = self.keeper.closed_until(ctx.state)
        if current > closed:
            self.keeper.set_closed_until(ctx.state, current)
            if closed:
                ctx.emit("interval_closed", {"start_ms": closed, "end_ms": current})

    def check_invariants(self, state: StateReader) -> list[str]:
        return invariants.check_all(self.keeper, state)
