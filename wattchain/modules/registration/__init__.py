"""The registration module: verified renewable producers and their assets.

* Zones: ``set_zone [zone_id, name, hosting_capacity_w]`` (dso). The DSO that
  creates a zone operates it: only it changes the zone or approves
  connections in it. Zones may also come from genesis.
* Producers: ``register_producer`` / ``update_producer [name, kind,
  contact_uri, metadata]`` (producer): one profile per account.
* Assets: ``add_asset`` and ``update_asset`` (owner); the verification
  workflow ``attest`` (certifier), ``approve`` (the zone's DSO), ``suspend``,
  ``reinstate``, ``revoke``; ``certify`` attaches a certification (I-REC, GO,
  REC, custom) with a validity window in block time. ``lifecycle`` holds
  every legal status change and who may make it.

Other modules read assets and zones from ``module.registry`` (the keeper:
active_capacity, is_renewable, assets_of, zone_of, zone_operator, ...), each
through the Protocol of its own ``expected``. Roles come from the accounts
module through ``expected.RoleChecker``.
"""

from __future__ import annotations

from wattchain.modules.registration import genesis, invariants
from wattchain.modules.registration.expected import RoleChecker
from wattchain.modules.registration.handlers import RegistryHandlers
from wattchain.modules.registration.keeper import RegistrationKeeper
from wattchain.modules.registration.queries import RegistrationQueries
from wattchain.modules.registration.workflow import WorkflowHandlers
from wattchain.vm.module import BaseModule, methods_of

__all__ = ["RegistrationModule"]


class RegistrationModule(BaseModule[RegistrationKeeper]):
    name = "registration"

    def __init__(self, roles: RoleChecker) -> None:
        keeper = RegistrationKeeper()
        super().__init__(
            keeper, genesis, invariants,
            handlers={
                **methods_of(RegistryHandlers(keeper, roles), "set_zone", "register_producer",
                             "update_producer", "add_asset", "update_asset"),
                **methods_of(WorkflowHandlers(keeper, roles), "attest", "approve", "suspend",
                             "reinstate", "revoke", "certify")},
            queries=methods_of(RegistrationQueries(keeper), "params", "zone", "zones",
                               "producer", "producers", "asset", "assets", "history",
                               "capacity", "expiring"))
        self.registry = keeper
