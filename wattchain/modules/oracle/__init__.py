"""The oracle module: feed values per (feed, zone, round) from oracle accounts.

* Feeds are fixed (``types.FEEDS``): wholesale price (micro-units/kWh),
  irradiance (W/m2), wind speed (mm/s), temperature (milli-degC), grid
  frequency (mHz), grid emission factor (gCO2/kWh).
* ``submit [feed, zone, round, value]`` (oracle; the role is granted by the
  admin quorum through ``accounts.grant_role``). Round r covers block time
  [r * round_ms, (r + 1) * round_ms). A round is final once ``quorum``
  oracles submitted; its value is their (lower) median (``rounds``).
* Other modules read values through ``OracleFeeds`` (``module.feeds``):
  ``latest`` returns None for a missing or stale value, and callers refuse to
  act on it.

Roles come from the accounts module through ``RoleChecker``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wattchain.modules.oracle import genesis, invariants
from wattchain.modules.oracle.handlers import OracleHandlers
from wattchain.modules.oracle.keeper import OracleKeeper
from wattchain.modules.oracle.queries import OracleQueries
from wattchain.modules.oracle.types import FEEDS, OracleFeeds, RoleChecker
from wattchain.vm.interface import Context, Handler, Query
from wattchain.vm.state import Overlay, StateReader

__all__ = ["FEEDS", "OracleFeeds", "OracleModule", "RoleChecker"]


class OracleModule:
    name = "oracle"

    def __init__(self, roles: RoleChecker) -> None:
        self.keeper = OracleKeeper()
        self.feeds: OracleFeeds = self.keeper
        handlers = OracleHandlers(self.keeper, roles)
        queries = OracleQueries(self.keeper)
        self.handlers: Mapping[str, Handler] = {"submit": handlers.submit}
        self.queries: Mapping[str, Query] = {
            "params": queries.params,
            "feed": queries.feed,
            "round": queries.round,
            "feeds": queries.feeds,
        }

    def init_genesis(self, state: Overlay, section: Mapping[str, Any]) -> None:
        genesis.init_genesis(self.keeper, state, section)

    def export_genesis(self, state: StateReader) -> dict[str, Any]:
        return genesis.export_genesis(self.keeper, state)

    def end_block(self, ctx: Context) -> None:
        return None

    def check_invariants(self, state: StateReader) -> list[str]:
        return invariants.check_all(self.keeper, state)
