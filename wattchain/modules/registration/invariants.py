"""Invariants of the registration module, checked in tests after every block.

* Per zone, the capacity of connected (active or suspended) assets equals the
  zone's stored ``connected_w`` and stays within its hosting capacity.
* Every active or suspended asset carries an attestation of its current
  revision by a certifier other than its owner, and the approval of its
  current revision by its zone's operator.
* Indexes, bindings and counters match the asset records exactly.
"""

from __future__ import annotations

from wattchain.modules.registration import keys
from wattchain.modules.registration.keeper import (
    RegistrationKeeper,
    asset_derived_keys,
    certification_derived_keys,
)
from wattchain.modules.registration.types import ACTIVE, CONNECTED, Asset, Zone
from wattchain.vm.state import StateReader


def check_zone_capacity(keeper: RegistrationKeeper, state: StateReader) -> list[str]:
    connected: dict[str, int] = {}
    active: dict[str, int] = {}
    for _, asset in keeper.iterate_assets(state):
        connected[asset.zone_id] = connected.get(asset.zone_id, 0) + asset.connected_w
        if asset.status == ACTIVE:
            active[asset.zone_id] = active.get(asset.zone_id, 0) + asset.capacity_w
    zones = dict(keeper.iterate_zones(state))
    problems = [f"registration: assets in unknown zone {zone_id!r}"
                for zone_id in connected if zone_id not in zones]
    for zone_id, zone in zones.items():
        total = connected.get(zone_id, 0)
        if zone.connected_w != total:
            problems.append(f"registration: zone {zone_id!r} records {zone.connected_w} W "
                            f"connected, its assets sum to {total} W")
        if max(total, active.get(zone_id, 0)) > zone.hosting_capacity_w:
            problems.append(f"registration: zone {zone_id!r} connects {total} W, above its "
                            f"hosting capacity {zone.hosting_capacity_w} W")
    return problems


def verification_problems(asset_id: int, asset: Asset, zone: Zone | None) -> list[str]:
    where = f"registration: {asset.status} asset {asset_id}"
    problems = []
    attestation, approval = asset.attestation, asset.approval
    if attestation is None or attestation.revision != asset.revision:
        problems.append(f"{where} has no attestation of revision {asset.revision}")
    elif attestation.certifier == asset.owner:
        problems.append(f"{where} was attested by its owner")
    if approval is None or approval.revision != asset.revision:
        problems.append(f"{where} has no DSO approval of revision {asset.revision}")
    elif zone is None or approval.dso != zone.operator:
        problems.append(f"{where} was not approved by its zone's operator")
    return problems


def check_verified(keeper: RegistrationKeeper, state: StateReader) -> list[str]:
    zones = dict(keeper.iterate_zones(state))
    problems: list[str] = []
    for asset_id, asset in keeper.iterate_assets(state):
        if asset.status in CONNECTED:
            problems.extend(verification_problems(asset_id, asset, zones.get(asset.zone_id)))
    return problems


def check_records(keeper: RegistrationKeeper, state: StateReader) -> list[str]:
    """Derived keys, history and certification counts, owners, the id counter."""
    expected: dict[bytes, bytes] = {}
    problems: list[str] = []
    last_id = 0
    for asset_id, asset in keeper.iterate_assets(state):
        last_id = asset_id
        expected.update(asset_derived_keys(asset_id, asset))
        history = sum(1 for _ in state.iterate(keys.history_prefix(asset_id)))
        certifications = keeper.certifications(state, asset_id)
        for seq, certification in enumerate(certifications):
            expected.update(certification_derived_keys(asset_id, seq, certification))
        if (history, len(certifications)) != (asset.history_length,
                                              asset.certification_count):
            problems.append(f"registration: asset {asset_id} counts do not match its "
                            "history or certifications")
        if keeper.get_producer(state, asset.owner) is None:
            problems.append(f"registration: asset {asset_id} has an owner without a profile")
    actual = {key: value for prefix in keys.DERIVED_PREFIXES
              for key, value in state.iterate(prefix)}
    if actual != expected:
        missing = len(expected.keys() - actual.keys())
        extra = len(actual.keys() - expected.keys())
        problems.append(f"registration: indexes out of step ({missing} missing, {extra} "
                        "stray or different)")
    if keeper.next_asset_id(state) <= last_id:
        problems.append("registration: the next asset id is not above every asset id")
    return problems


def check_all(keeper: RegistrationKeeper, state: StateReader) -> list[str]:
    return (check_zone_capacity(keeper, state) + check_verified(keeper, state)
            + check_records(keeper, state))
