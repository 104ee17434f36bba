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

Other modules ask through ``ProducerRegistry`` (``module.registry``):
active_capacity, is_renewable, assets_of, zone_of. Roles come from the
accounts module through ``RoleChecker``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wattchain.modules.registration import genesis, invariants
from wattchain.modules.registration.handlers import RegistryHandlers
from wattchain.modules.registration.keeper import RegistrationKeeper
from wattchain.modules.registration.queries import RegistrationQueries
from wattchain.modules.registration.types import ProducerRegistry, RoleChecker
from wattchain.modules.registration.workflow import WorkflowHandlers
from wattchain.vm.interface import Context, Handler, Query
from wattchain.vm.state import Overlay, StateReader

__all__ = ["RegistrationModule", "ProducerRegistry", "RoleChecker"]


class RegistrationModule:
    name = "registration"

    def __init__(self, roles: RoleChecker) -> None:
        self.keeper = RegistrationKeeper()
        self.registry: ProducerRegistry = self.keeper
        registry = RegistryHandlers(self.keeper, roles)
        workflow = WorkflowHandlers(self.keeper, roles)
        queries = RegistrationQueries(self.keeper)
        self.handlers: Mapping[str, Handler] = {
            "set_zone": registry.set_zone,
            "register_producer": registry.register_producer,
            "update_producer": registry.update_producer,
            "add_asset": registry.add_asset,
            "update_asset": registry.update_asset,
            "attest": workflow.attest,
            "approve": workflow.approve,
            "suspend": workflow.suspend,
            "reinstate": workflow.reinstate,
            "revoke": workflow.revoke,
            "certify": workflow.certify,
        }
        self.queries: Mapping[str, Query] = {
            "params": queries.params,
            "zone": queries.zone,
            "zones": queries.zones,
            "producer": queries.producer,
            "producers": queries.producers,
            "asset": queries.asset,
            "assets": queries.assets,
            "history": queries.history,
            "capacity": queries.capacity,
            "expiring": queries.expiring,
        }

    def init_genesis(self, state: Overlay, section: Mapping[str, Any]) -> None:
        genesis.init_genesis(self.keeper, state, section)

    def export_genesis(self, state: StateReader) -> dict[str, Any]:
        return genesis.export_genesis(self.keeper, state)

    def end_block(self, ctx: Context) -> None:
        return None

    def check_invariants(self, state: StateReader) -> list[str]:
        return invariants.check_all(self.keeper, state)
