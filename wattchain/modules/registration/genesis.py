"""Genesis import and export of the registration module.

Section shape (every field optional; export writes all of them)::

    {"params": {"max_asset_capacity_w": .., "max_energy_capacity_wh": ..,
                "max_metadata_bytes": ..},
     "zones": [{"zone_id": "north", "name": "..", "hosting_capacity_w": 500000,
                "operator": "0x.."}],
     "producers": [{"address": "0x..", "name": "..", "kind": "household",
                    "contact_uri": "mailto:..", "metadata": "", "registered_height": 0,
                    "registered_time_ms": 0}],
     "assets": [{<the registration/asset view>, "history": [..], "certifications": [..]}],
     "next_asset_id": 1}

Zones' connected capacity, indexes and bindings are derived, not exported:
import rebuilds them through the keeper, so export -> import is exact.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from wattchain.crypto import parse_address
from wattchain.errors import WattchainError
from wattchain.modules.registration.invariants import verification_problems
from wattchain.modules.registration.keeper import RegistrationKeeper
from wattchain.modules.registration.types import (
    REVOKED,
    STATUSES,
    Approval,
    Asset,
    Attestation,
    Certification,
    HistoryEntry,
    Producer,
    RegistrationParams,
    Zone,
)
from wattchain.modules.registration.validation import (
    MAX_REASON_LEN,
    MAX_TIME_MS,
    check_asset_type,
    check_capacity,
    check_contact_uri,
    check_equipment,
    check_evidence_hash,
    check_location,
    check_metadata,
    check_producer_kind,
    check_scheme,
)
from wattchain.modules.registration.views import (
    asset_from_json,
    asset_json,
    certification_from_json,
    certification_json,
    history_from_json,
    history_json,
    producer_from_json,
    producer_json,
)
from wattchain.vm.fields import (
    GenesisFields,
    arg_int,
    arg_meter_id,
    arg_text,
    arg_zone_id,
    check_section,
)
from wattchain.vm.state import Overlay, StateReader

SECTION_FIELDS = {"params", "zones", "producers", "assets", "next_asset_id"}
FIELDS = GenesisFields(ValueError)
T = TypeVar("T")


def checked(where: str, parse: Callable[..., T], *args: Any) -> T:
    """``parse(*args)``; any failure becomes a ValueError naming ``where``."""
    try:
        return parse(*args)
    except WattchainError as exc:
        raise ValueError(f"{where}: {exc.message}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"{where}: missing or malformed field ({exc})") from None


def as_list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError("expected a list")
    return value


def _zone(entry: Any) -> tuple[str, Zone]:
    return arg_zone_id(entry["zone_id"]), Zone(
        arg_text(entry["name"], "name"),
        arg_int(entry["hosting_capacity_w"], "hosting_capacity_w", 1, 1 << 62),
        parse_address(str(entry["operator"])))


def _producer(entry: Any, params: RegistrationParams) -> tuple[bytes, Producer]:
    address, producer = producer_from_json(entry)
    arg_text(producer.name, "name")
    check_producer_kind(producer.kind)
    check_contact_uri(producer.contact_uri)
    check_metadata(producer.metadata, params)
    arg_int(producer.registered_height, "registered_height", 0, MAX_TIME_MS)
    arg_int(producer.registered_time_ms, "registered_time_ms", 0, MAX_TIME_MS)
    return address, producer


def _asset(entry: Any, params: RegistrationParams) -> tuple[int, Asset]:
    asset_id, asset = asset_from_json(entry, 0, 0)
    arg_int(asset_id, "asset_id", 1, MAX_TIME_MS)
    check_capacity(check_asset_type(asset.asset_type), asset.capacity_w, asset.energy_wh,
                   params)
    arg_zone_id(asset.zone_id)
    arg_text(asset.connection_point, "connection_point")
    check_location(asset.latitude_micro, asset.longitude_micro)
    arg_int(asset.commissioned_ms, "commissioned_ms", 0, MAX_TIME_MS)
    equipment = asset.equipment
    check_equipment(equipment.manufacturer, equipment.model, equipment.serial,
                    equipment.inverter_model, equipment.unit_count)
    arg_meter_id(asset.meter_id)
    if asset.status not in STATUSES:
        raise ValueError(f"unknown status {asset.status!r}")
    arg_int(asset.revision, "revision", 1, MAX_TIME_MS)
    steps: list[Attestation | Approval] = [s for s in (asset.attestation, asset.approval) if s]
    for step in steps:
        for name in ("revision", "height", "time_ms"):
            arg_int(getattr(step, name), name, 0, MAX_TIME_MS)
    if asset.attestation is not None:
        check_evidence_hash(asset.attestation.evidence_hash)
    return asset_id, asset


def _history(entry: Any) -> HistoryEntry:
    history = history_from_json(entry)
    arg_int(history.height, "height", 0, MAX_TIME_MS)
    arg_int(history.time_ms, "time_ms", 0, MAX_TIME_MS)
    if history.status not in STATUSES:
        raise ValueError(f"unknown status {history.status!r}")
    arg_text(history.reason, "reason", MAX_REASON_LEN)
    return history


def _certification(entry: Any) -> Certification:
    certification = certification_from_json(entry)
    check_scheme(certification.scheme)
    arg_text(certification.certificate_id, "certificate_id")
    for name in ("valid_from_ms", "valid_to_ms", "height"):
        arg_int(getattr(certification, name), name, 0, MAX_TIME_MS)
    return certification


def init_genesis(keeper: RegistrationKeeper, state: Overlay, section: Mapping[str, Any]) -> None:
    check_section(section, "registration", SECTION_FIELDS)
    params = RegistrationParams.from_json(dict(section.get("params", {})))
    keeper.set_params(state, params)
    for index, entry in enumerate(FIELDS.entries(section, "zones")):
        where = f"zones[{index}]"
        zone_id, zone = checked(where, _zone, entry)
        if keeper.get_zone(state, zone_id) is not None:
            raise ValueError(f"{where}: duplicate zone {zone_id!r}")
        keeper.set_zone(state, zone_id, zone)
    for index, entry in enumerate(FIELDS.entries(section, "producers")):
        where = f"producers[{index}]"
        address, producer = checked(where, _producer, entry, params)
        if keeper.get_producer(state, address) is not None:
            raise ValueError(f"{where}: duplicate producer 0x{address.hex()}")
        keeper.set_producer(state, address, producer)
    last_id = 0
    for index, entry in enumerate(FIELDS.entries(section, "assets")):
        last_id = max(last_id, import_asset(keeper, state, params, entry, f"assets[{index}]"))
    next_id = section.get("next_asset_id", last_id + 1)
    if type(next_id) is not int or next_id <= last_id:
        raise ValueError("next_asset_id must be an integer above every asset id")
    keeper.set_next_asset_id(state, next_id)
    for zone_id, zone in keeper.iterate_zones(state):
        if zone.connected_w > zone.hosting_capacity_w:
            raise ValueError(f"zone {zone_id!r} connects {zone.connected_w} W, above its "
                             f"hosting capacity {zone.hosting_capacity_w} W")


def import_asset(keeper: RegistrationKeeper, state: Overlay, params: RegistrationParams,
                 entry: Any, where: str) -> int:
    """Write one exported asset with its history and certifications; return its id."""
    asset_id, asset = checked(where, _asset, entry, params)
    if keeper.get_asset(state, asset_id) is not None:
        raise ValueError(f"{where}: duplicate asset id {asset_id}")
    if keeper.get_producer(state, asset.owner) is None:
        raise ValueError(f"{where}: the owner has no producer profile")
    zone = keeper.get_zone(state, asset.zone_id)
    if zone is None:
        raise ValueError(f"{where}: unknown zone {asset.zone_id!r}")
    if asset.connected_w:
        problems = verification_problems(asset_id, asset, zone)
        if problems:
            raise ValueError(f"{where}: {problems[0]}")
    holder = keeper.asset_for_serial(state, asset.equipment.serial)
    if holder is not None:
        raise ValueError(f"{where}: serial already registered to asset {holder}")
    if asset.meter_id and asset.status != REVOKED and keeper.asset_for_meter(
            state, asset.meter_id) is not None:
        raise ValueError(f"{where}: meter {asset.meter_id!r} is bound twice")
    for seq, item in enumerate(checked(where, as_list, entry.get("history", []))):
        history = checked(f"{where}.history[{seq}]", _history, item)
        keeper.append_history(state, asset_id, asset, history)
    for seq, item in enumerate(checked(where, as_list, entry.get("certifications", []))):
        certification = checked(f"{where}.certifications[{seq}]", _certification, item)
        if keeper.certificate_holder(state, certification.scheme,
                                     certification.certificate_id) is not None:
            raise ValueError(f"{where}.certifications[{seq}]: duplicate certificate id")
        keeper.add_certification(state, asset_id, asset, certification)
    keeper.save_asset(state, asset_id, None, asset)
    return asset_id


def export_genesis(keeper: RegistrationKeeper, state: StateReader) -> dict[str, Any]:
    zones = [{"zone_id": zone_id, "name": zone.name,
              "hosting_capacity_w": zone.hosting_capacity_w,
              "operator": "0x" + zone.operator.hex()}
             for zone_id, zone in keeper.iterate_zones(state)]
    assets = [{**asset_json(asset_id, asset),
               "history": [history_json(e) for e in keeper.history(state, asset_id)],
               "certifications": [certification_json(c)
                                  for c in keeper.certifications(state, asset_id)]}
              for asset_id, asset in keeper.iterate_assets(state)]
    return {
        "params": keeper.params(state).to_json(),
        "zones": zones,
        "producers": [producer_json(address, producer)
                      for address, producer in keeper.iterate_producers(state)],
        "assets": assets,
        "next_asset_id": keeper.next_asset_id(state),
    }
