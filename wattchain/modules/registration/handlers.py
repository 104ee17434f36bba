"""Handlers for zones, producer profiles and asset records.

Each handler checks the sender's role, then its arguments, then state, and
only then writes; any TxError leaves state untouched (the vm drops the
transaction's overlay). The verification workflow is in ``workflow``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from wattchain.modules.registration.errors import (
    DuplicateSerial,
    HostingCapacityExceeded,
    InvalidTransition,
    MeterAlreadyBound,
    MissingRole,
    NothingChanged,
    NotZoneOperator,
    ProducerExists,
    UnknownAsset,
    UnknownProducer,
    UnknownZone,
)
from wattchain.modules.registration.expected import RoleChecker
from wattchain.modules.registration.keeper import RegistrationKeeper
from wattchain.modules.registration.lifecycle import authorize, next_status
from wattchain.modules.registration.types import (
    REVOKED,
    SUBMITTED,
    Asset,
    Equipment,
    HistoryEntry,
    Producer,
    Zone,
)
from wattchain.modules.registration.validation import (
    MAX_TIME_MS,
    check_asset_id,
    check_asset_type,
    check_capacity,
    check_contact_uri,
    check_equipment,
    check_location,
    check_metadata,
    check_producer_kind,
)
from wattchain.vm.fields import arg_int, arg_meter_id, arg_text, arg_zone_id, expect_args
from wattchain.vm.interface import Context, require_role

MAX_HOSTING_CAPACITY_W = 1 << 62


class BaseHandlers:
    """What every registration handler needs: the keeper and the role book."""

    def __init__(self, keeper: RegistrationKeeper, roles: RoleChecker) -> None:
        self.keeper = keeper
        self.roles = roles

    def has_role(self, ctx: Context, role: str) -> bool:
        return self.roles.get_account(ctx.state, ctx.sender).has_role(role)

    def require_role(self, ctx: Context, role: str) -> None:
        require_role(self.roles, ctx, role, MissingRole)

    def load_asset(self, ctx: Context, asset_id: int) -> Asset:
        asset = self.keeper.get_asset(ctx.state, asset_id)
        if asset is None:
            raise UnknownAsset(f"no asset with id {asset_id}")
        return asset

    def load_zone(self, ctx: Context, zone_id: str) -> Zone:
        zone = self.keeper.get_zone(ctx.state, zone_id)
        if zone is None:
            raise UnknownZone(f"no zone {zone_id!r}; a DSO creates it with set_zone")
        return zone

    def change_status(self, ctx: Context, asset_id: int, old: Asset, new: Asset, action: str,
                      reason: str) -> None:
        """Record a status change of ``new`` (already moved) in history, state and events."""
        self.keeper.append_history(ctx.state, asset_id, new, HistoryEntry(
            ctx.height, ctx.time_ms, new.status, ctx.sender, reason))
        self.keeper.save_asset(ctx.state, asset_id, old, new)
        ctx.emit("asset_status", {"asset_id": asset_id, "action": action, "status": new.status,
                                  "previous_status": old.status, "actor": ctx.sender,
                                  "reason": reason})

    def check_unbound(self, ctx: Context, asset_id: int, equipment: Equipment,
                      meter_id: str) -> None:
        """The serial and the meter belong to no other asset."""
        holder = self.keeper.asset_for_serial(ctx.state, equipment.serial)
        if holder is not None and holder != asset_id:
            raise DuplicateSerial(f"serial {equipment.serial!r} is already registered "
                                  f"to asset {holder}")
        if meter_id:
            bound = self.keeper.asset_for_meter(ctx.state, meter_id)
            if bound is not None and bound != asset_id:
                raise MeterAlreadyBound(f"meter {meter_id!r} is bound to asset {bound}")


class RegistryHandlers(BaseHandlers):
    # -- zones ---------------------------------------------------------------------

    def set_zone(self, ctx: Context, args: list[Any]) -> None:
        """[zone_id, name, hosting_capacity_w] (dso): create a zone, or change one you operate."""
        zone_raw, name_raw, hosting_raw = expect_args(args, 3, "zone id, name, hosting capacity W")
        self.require_role(ctx, "dso")
        zone_id = arg_zone_id(zone_raw)
        name = arg_text(name_raw, "zone name")
        hosting = arg_int(hosting_raw, "hosting capacity (W)", 1, MAX_HOSTING_CAPACITY_W)
        zone = self.keeper.get_zone(ctx.state, zone_id)
        if zone is None:
            zone = Zone(name, hosting, ctx.sender)
        elif zone.operator != ctx.sender:
            raise NotZoneOperator(f"zone {zone_id!r} is operated by 0x{zone.operator.hex()}")
        elif hosting < zone.connected_w:
            raise HostingCapacityExceeded(f"zone {zone_id!r} already connects "
                                          f"{zone.connected_w} W; hosting capacity may not "
                                          "go below it")
        zone.name, zone.hosting_capacity_w = name, hosting
        self.keeper.set_zone(ctx.state, zone_id, zone)
        ctx.emit("zone_set", {"zone_id": zone_id, "name": name, "hosting_capacity_w": hosting,
                              "operator": zone.operator})

    # -- producers -----------------------------------------------------------------

    def register_producer(self, ctx: Context, args: list[Any]) -> None:
        """[name, kind, contact_uri, metadata] (producer): your producer profile."""
        self._save_producer(ctx, args, new=True)

    def update_producer(self, ctx: Context, args: list[Any]) -> None:
        """[name, kind, contact_uri, metadata] (producer): change your profile."""
        self._save_producer(ctx, args, new=False)

    def _save_producer(self, ctx: Context, args: list[Any], *, new: bool) -> None:
        name_raw, kind_raw, uri_raw, metadata_raw = expect_args(
            args, 4, "name, kind, contact URI, metadata")
        self.require_role(ctx, "producer")
        name = arg_text(name_raw, "producer name")
        kind = check_producer_kind(kind_raw)
        contact = check_contact_uri(uri_raw)
        metadata = check_metadata(metadata_raw, self.keeper.params(ctx.state))
        existing = self.keeper.get_producer(ctx.state, ctx.sender)
        if new and existing is not None:
            raise ProducerExists("this account already has a producer profile; "
                                 "use update_producer")
        if not new and existing is None:
            raise UnknownProducer("this account has no producer profile; register first")
        height, time_ms = (ctx.height, ctx.time_ms) if existing is None else (
            existing.registered_height, existing.registered_time_ms)
        self.keeper.set_producer(ctx.state, ctx.sender,
                                 Producer(name, kind, contact, metadata, height, time_ms))
        ctx.emit("producer_registered" if new else "producer_updated",
                 {"producer": ctx.sender, "name": name, "kind": kind})

    # -- assets --------------------------------------------------------------------

    def add_asset(self, ctx: Context, args: list[Any]) -> None:
        """[type, capacity_w, energy_wh, zone_id, connection_point, latitude_micro,
        longitude_micro, commissioned_ms, manufacturer, model, serial, inverter_model,
        unit_count, meter_id] (producer with a profile): submit an asset for verification."""
        (type_raw, capacity_raw, energy_raw, zone_raw, point_raw, latitude_raw, longitude_raw,
         commissioned_raw, *equipment_raw, meter_raw) = expect_args(
            args, 14, "type, capacity W, energy Wh, zone, connection point, latitude, "
            "longitude, commissioned ms, manufacturer, model, serial, inverter model, "
            "unit count, meter id")
        self.require_role(ctx, "producer")
        if self.keeper.get_producer(ctx.state, ctx.sender) is None:
            raise UnknownProducer("register a producer profile before adding assets")
        asset_type = check_asset_type(type_raw)
        capacity_w, energy_wh = check_capacity(asset_type, capacity_raw, energy_raw,
                                               self.keeper.params(ctx.state))
        zone_id = arg_zone_id(zone_raw)
        self.load_zone(ctx, zone_id)
        latitude, longitude = check_location(latitude_raw, longitude_raw)
        asset_id = self.keeper.next_asset_id(ctx.state)
        equipment = check_equipment(*equipment_raw)
        meter_id = arg_meter_id(meter_raw)
        self.check_unbound(ctx, asset_id, equipment, meter_id)
        asset = Asset(ctx.sender, asset_type, capacity_w, energy_wh, zone_id,
                      arg_text(point_raw, "connection point"), latitude, longitude,
                      arg_int(commissioned_raw, "commissioning time (ms)", 0, MAX_TIME_MS),
                      equipment, meter_id, SUBMITTED, 1)
        self.keeper.set_next_asset_id(ctx.state, asset_id + 1)
        self.keeper.append_history(ctx.state, asset_id, asset, HistoryEntry(
            ctx.height, ctx.time_ms, SUBMITTED, ctx.sender, "registered"))
        self.keeper.save_asset(ctx.state, asset_id, None, asset)
        ctx.emit("asset_registered", {"asset_id": asset_id, "owner": ctx.sender,
                                      "type": asset_type, "capacity_w": capacity_w,
                                      "zone_id": zone_id})
        ctx.emit("asset_status", {"asset_id": asset_id, "action": "register",
                                  "status": SUBMITTED, "previous_status": "",
                                  "actor": ctx.sender, "reason": "registered"})

    def update_asset(self, ctx: Context, args: list[Any]) -> None:
        """[asset_id, capacity_w, energy_wh, manufacturer, model, serial, inverter_model,
        unit_count, meter_id] (owner). A new capacity or new specs make a new revision and
        send the asset back to verification (submitted); a new meter alone does neither."""
        asset_raw, capacity_raw, energy_raw, *equipment_raw, meter_raw = expect_args(
            args, 9, "asset id, capacity W, energy Wh, manufacturer, model, serial, "
            "inverter model, unit count, meter id")
        asset_id = check_asset_id(asset_raw)
        old = self.load_asset(ctx, asset_id)
        authorize("resubmit", frozenset({"owner"} if old.owner == ctx.sender else ()))
        if old.status == REVOKED:
            raise InvalidTransition("a revoked asset cannot be updated; add a new asset")
        capacity_w, energy_wh = check_capacity(old.asset_type, capacity_raw, energy_raw,
                                               self.keeper.params(ctx.state))
        equipment = check_equipment(*equipment_raw)
        meter_id = arg_meter_id(meter_raw)
        self.check_unbound(ctx, asset_id, equipment, meter_id)
        respecified = (capacity_w, energy_wh, equipment) != (old.capacity_w, old.energy_wh,
                                                             old.equipment)
        if not respecified and meter_id == old.meter_id:
            raise NothingChanged("the update changes nothing")
        new = dataclasses.replace(old, capacity_w=capacity_w, energy_wh=energy_wh,
                                  equipment=equipment, meter_id=meter_id,
                                  revision=old.revision + respecified)
        ctx.emit("asset_updated", {"asset_id": asset_id, "revision": new.revision,
                                   "capacity_w": capacity_w, "meter_id": meter_id})
        if respecified and old.status != SUBMITTED:
            new.status = next_status("resubmit", old.status)
            new.attestation = new.approval = None
            self.change_status(ctx, asset_id, old, new, "resubmit",
                               "capacity or equipment changed")
        else:  # a submitted asset carries no attestation or approval to drop
            self.keeper.save_asset(ctx.state, asset_id, old, new)
