"""The oracle module: feed values per (feed, zone, round) from oracle accounts.

* Feeds are fixed (``types.FEEDS``): wholesale price (micro-units/kWh),
  irradiance (W/m2), wind speed (mm/s), temperature (milli-degC), grid
  frequency (mHz), grid emission factor (gCO2/kWh).
* ``submit [feed, zone, round, value]`` (oracle; the role is granted by the
  admin quorum through ``accounts.grant_role``). Round r covers block time
  [r * round_ms, (r + 1) * round_ms). A round is final once ``quorum``
  oracles submitted; its value is their (lower) median (``rounds``).
* Other modules read values through ``module.feeds`` (the keeper's
  ``latest``), which returns None for a missing or stale value; callers
  refuse to act on it.

Roles come from the accounts module through ``expected.RoleChecker``.
"""

from __future__ import annotations

from wattchain.modules.oracle import genesis, invariants
from wattchain.modules.oracle.expected import RoleChecker
from wattchain.modules.oracle.handlers import OracleHandlers
from wattchain.modules.oracle.keeper import OracleKeeper
from wattchain.modules.oracle.queries import OracleQueries
from wattchain.modules.oracle.types import FEEDS
from wattchain.vm.module import BaseModule, methods_of

__all__ = ["FEEDS", "OracleModule"]


class OracleModule(BaseModule[OracleKeeper]):
    name = "oracle"

    def __init__(self, roles: RoleChecker) -> None:
        keeper = OracleKeeper()
        super().__init__(
            keeper, genesis, invariants,
            handlers=methods_of(OracleHandlers(keeper, roles), "submit"),
            queries=methods_of(OracleQueries(keeper), "params", "feed", "round", "feeds"))
        self.feeds = keeper  # what balancing reads (``latest``)
