"""Read-only queries (abci_query paths ``registration/<name>``).

``data`` is a JSON object of named arguments; addresses are ``0x`` hex and
times ms of block time. A bad argument raises InvalidQuery, a missing
record RecordNotFound.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from wattchain.modules.registration import keys
from wattchain.modules.registration.errors import RecordNotFound
from wattchain.modules.registration.keeper import RegistrationKeeper
from wattchain.modules.registration.types import (
    ACTIVE,
    ASSET_TYPES,
    CONNECTED,
    PRODUCER_KINDS,
    REVOKED,
    STATUSES,
    Asset,
)
from wattchain.modules.registration.views import (
    asset_json,
    certification_json,
    history_json,
    producer_json,
    zone_json,
)
from wattchain.vm.fields import (
    MAX_INT,
    query_address,
    query_int,
    query_optional_choice,
    query_text,
)
from wattchain.vm.state import StateReader

DEFAULT_LIMIT = 100
MAX_LIMIT = 1_000


class RegistrationQueries:
    def __init__(self, keeper: RegistrationKeeper) -> None:
        self.keeper = keeper

    def params(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        return self.keeper.params(state).to_json()

    def zone(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        zone_id = query_text(data, "zone_id")
        zone = self.keeper.get_zone(state, zone_id)
        if zone is None:
            raise RecordNotFound(f"no zone {zone_id!r}")
        return zone_json(zone_id, zone)

    def zones(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        return {"zones": [zone_json(z, zone) for z, zone in self.keeper.iterate_zones(state)]}

    def producer(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        address = query_address(data, "address")
        producer = self.keeper.get_producer(state, address)
        if producer is None:
            raise RecordNotFound(f"no producer profile for 0x{address.hex()}")
        return {**producer_json(address, producer),
                "assets": self.keeper.assets_of(state, address)}

    def producers(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        kind = query_optional_choice(data, "kind", PRODUCER_KINDS)
        return {"producers": [producer_json(address, producer) for address, producer
                              in self.keeper.iterate_producers(state)
                              if kind is None or producer.kind == kind]}

    def asset(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        """The asset, its certifications and, given ``at_ms``, what it may back then."""
        asset_id = query_int(data, "asset_id", low=1, high=MAX_INT)
        asset = self.keeper.get_asset(state, asset_id)
        if asset is None:
            raise RecordNotFound(f"no asset with id {asset_id}")
        value = asset_json(asset_id, asset)
        value["certifications"] = [certification_json(c)
                                   for c in self.keeper.certifications(state, asset_id)]
        if "at_ms" in data:
            at_ms = query_int(data, "at_ms", high=MAX_INT)
            value["at_ms"] = at_ms
            value["active_capacity_w"] = self.keeper.active_capacity(state, asset_id, at_ms)
            value["renewable"] = self.keeper.is_renewable(state, asset_id, at_ms)
        return value

    def history(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        asset_id = query_int(data, "asset_id", low=1, high=MAX_INT)
        if self.keeper.get_asset(state, asset_id) is None:
            raise RecordNotFound(f"no asset with id {asset_id}")
        return {"asset_id": asset_id,
                "history": [history_json(e) for e in self.keeper.history(state, asset_id)]}

    def assets(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        """Assets filtered by any of owner, zone_id, type, status; ``after`` an id pages on."""
        owner = query_address(data, "owner") if "owner" in data else None
        zone_id = query_text(data, "zone_id") if "zone_id" in data else None
        asset_type = query_optional_choice(data, "type", ASSET_TYPES)
        status = query_optional_choice(data, "status", STATUSES)
        after = query_int(data, "after", 0, high=MAX_INT)
        limit = query_int(data, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        items: list[dict[str, Any]] = []
        for asset_id, asset in self._candidates(state, owner, zone_id, asset_type, status):
            if asset_id <= after or (owner is not None and asset.owner != owner):
                continue
            if (zone_id is not None and asset.zone_id != zone_id) or (
                    asset_type is not None and asset.asset_type != asset_type) or (
                    status is not None and asset.status != status):
                continue
            if len(items) == limit:
                return {"assets": items, "next_after": items[-1]["asset_id"]}
            items.append(asset_json(asset_id, asset))
        return {"assets": items, "next_after": None}

    def _candidates(self, state: StateReader, owner: bytes | None, zone_id: str | None,
                    asset_type: str | None, status: str | None) -> Iterator[tuple[int, Asset]]:
        """Walk the narrowest index the filters allow (all assets when none)."""
        if owner is not None:
            prefix = keys.by_owner_prefix(owner)
        elif zone_id is not None:
            prefix = keys.by_zone_prefix(zone_id)
        elif status is not None:
            prefix = keys.by_status_prefix(status)
        elif asset_type is not None:
            prefix = keys.by_type_prefix(asset_type)
        else:
            yield from self.keeper.iterate_assets(state)
            return
        for asset_id in self.keeper.asset_ids(state, prefix):
            asset = self.keeper.get_asset(state, asset_id)
            if asset is not None:
                yield asset_id, asset

    def capacity(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        """Per zone: hosting and connected W, and per type active, connected and pending
        (submitted or attested) W and active storage Wh."""
        only = query_text(data, "zone_id") if "zone_id" in data else None
        zones = []
        for zone_id, zone in self.keeper.iterate_zones(state):
            if only is not None and zone_id != only:
                continue
            by_type: dict[str, dict[str, int]] = {}
            for asset_id in self.keeper.asset_ids(state, keys.by_zone_prefix(zone_id)):
                asset = self.keeper.get_asset(state, asset_id)
                if asset is None or asset.status == REVOKED:
                    continue
                row = by_type.setdefault(asset.asset_type, {
                    "active_w": 0, "connected_w": 0, "pending_w": 0, "active_energy_wh": 0})
                active = asset.status == ACTIVE
                row["active_w"] += asset.capacity_w if active else 0
                row["active_energy_wh"] += asset.energy_wh if active else 0
                row["connected_w"] += asset.capacity_w if asset.status in CONNECTED else 0
                row["pending_w"] += 0 if asset.status in CONNECTED else asset.capacity_w
            zones.append({**zone_json(zone_id, zone),
                          "active_w": sum(row["active_w"] for row in by_type.values()),
                          "by_type": dict(sorted(by_type.items()))})
        if only is not None and not zones:
            raise RecordNotFound(f"no zone {only!r}")
        return {"zones": zones}

    def expiring(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        """Certifications whose validity ends before ``before_ms``, soonest first."""
        before_ms = query_int(data, "before_ms", high=MAX_INT)
        limit = query_int(data, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        items = []
        for _, asset_id, seq in self.keeper.iterate_expiring(state, before_ms):
            certification = self.keeper.get_certification(state, asset_id, seq)
            if certification is None:
                continue
            items.append({"asset_id": asset_id, "seq": seq,
                          **certification_json(certification)})
            if len(items) == limit:
                break
        return {"before_ms": before_ms, "certifications": items}
