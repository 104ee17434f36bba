"""State reads and writes of the registration module.

``save_asset`` is the only way an asset record is written: it also keeps
every derived key in step (the owner, zone, status and type indexes, the
serial and meter bindings) and the zone's connected capacity, by diffing
the old record against the new one. The keeper is also what other
modules read assets and zones from (each through its own ``expected``
Protocol).
"""

from __future__ import annotations

from collections.abc import Iterator

from msgpack import packb, unpackb

from wattchain import codec
from wattchain.modules.registration import keys
from wattchain.modules.registration.types import (
    ACTIVE,
    RENEWABLE_TYPES,
    REVOKED,
    Asset,
    Certification,
    HistoryEntry,
    Producer,
    RegistrationParams,
    Zone,
)
from wattchain.vm.params import ParamsKeeper
from wattchain.vm.state import Overlay, StateReader


def asset_derived_keys(asset_id: int, asset: Asset) -> dict[bytes, bytes]:
    """Index and binding keys that exist because of this asset record."""
    encoded_id = keys.encode_id(asset_id)
    derived = {
        keys.serial_key(asset.equipment.serial): encoded_id,
        keys.by_owner_prefix(asset.owner) + encoded_id: keys.INDEX_VALUE,
        keys.by_zone_prefix(asset.zone_id) + encoded_id: keys.INDEX_VALUE,
        keys.by_status_prefix(asset.status) + encoded_id: keys.INDEX_VALUE,
        keys.by_type_prefix(asset.asset_type) + encoded_id: keys.INDEX_VALUE,
    }
    if asset.meter_id and asset.status != REVOKED:
        derived[keys.meter_key(asset.meter_id)] = encoded_id
    return derived


def certification_derived_keys(asset_id: int, seq: int,
                               certification: Certification) -> dict[bytes, bytes]:
    return {
        keys.certificate_id_key(certification.scheme, certification.certificate_id):
            codec.encode([asset_id, seq]),
        keys.expiry_key(certification.valid_to_ms, asset_id, seq): keys.INDEX_VALUE,
    }


class RegistrationKeeper(ParamsKeeper[RegistrationParams]):
    def __init__(self) -> None:
        super().__init__(keys.PARAMS_KEY, RegistrationParams)

    # -- counters ----------------------------------------------------------------------

    def next_asset_id(self, state: StateReader) -> int:
        raw = state.get(keys.NEXT_ASSET_KEY)
        return 1 if raw is None else int(unpackb(raw))

    def set_next_asset_id(self, state: Overlay, value: int) -> None:
        state.set(keys.NEXT_ASSET_KEY, packb(value))

    # -- zones -------------------------------------------------------------------------

    def get_zone(self, state: StateReader, zone_id: str) -> Zone | None:
        raw = state.get(keys.zone_key(zone_id))
        return None if raw is None else Zone(*codec.decode(raw))

    def set_zone(self, state: Overlay, zone_id: str, zone: Zone) -> None:
        state.set(keys.zone_key(zone_id), codec.encode(zone.to_list()))

    def iterate_zones(self, state: StateReader) -> Iterator[tuple[str, Zone]]:
        start = len(keys.ZONE_PREFIX)
        for key, raw in state.iterate(keys.ZONE_PREFIX):
            yield key[start:].decode(), Zone(*codec.decode(raw))

    # -- producers ---------------------------------------------------------------------

    def get_producer(self, state: StateReader, address: bytes) -> Producer | None:
        raw = state.get(keys.producer_key(address))
        return None if raw is None else Producer(*codec.decode(raw))

    def set_producer(self, state: Overlay, address: bytes, producer: Producer) -> None:
        state.set(keys.producer_key(address), codec.encode(producer.to_list()))

    def iterate_producers(self, state: StateReader) -> Iterator[tuple[bytes, Producer]]:
        start = len(keys.PRODUCER_PREFIX)
        for key, raw in state.iterate(keys.PRODUCER_PREFIX):
            yield key[start:], Producer(*codec.decode(raw))

    # -- assets ------------------------------------------------------------------------

    def get_asset(self, state: StateReader, asset_id: int) -> Asset | None:
        raw = state.get(keys.asset_key(asset_id))
        return None if raw is None else Asset.from_list(codec.decode(raw))

    def save_asset(self, state: Overlay, asset_id: int, old: Asset | None, new: Asset) -> None:
        """Write ``new`` over ``old`` (None for a new asset) and every derived key."""
        state.set(keys.asset_key(asset_id), codec.encode(new.to_list()))
        before = {} if old is None else asset_derived_keys(asset_id, old)
        after = asset_derived_keys(asset_id, new)
        for key in before.keys() - after.keys():
            state.delete(key)
        for key, value in after.items():
            if before.get(key) != value:
                state.set(key, value)
        if old is not None and old.connected_w:
            self._add_connected(state, old.zone_id, -old.connected_w)
        if new.connected_w:
            self._add_connected(state, new.zone_id, new.connected_w)

    def _add_connected(self, state: Overlay, zone_id: str, delta_w: int) -> None:
        zone = self.get_zone(state, zone_id)
        if zone is None:  # handlers and genesis check the zone first
            raise KeyError(f"asset in unknown zone {zone_id!r}")
        zone.connected_w += delta_w
        self.set_zone(state, zone_id, zone)

    def iterate_assets(self, state: StateReader) -> Iterator[tuple[int, Asset]]:
        start = len(keys.ASSET_PREFIX)
        for key, raw in state.iterate(keys.ASSET_PREFIX):
            yield keys.decode_id(key[start:]), Asset.from_list(codec.decode(raw))

    def asset_ids(self, state: StateReader, index_prefix: bytes) -> Iterator[int]:
        """Asset ids under one index prefix (``keys.by_*_prefix``), ascending."""
        start = len(index_prefix)
        for key, _ in state.iterate(index_prefix):
            yield keys.decode_id(key[start:])

    def asset_for_serial(self, state: StateReader, serial: str) -> int | None:
        raw = state.get(keys.serial_key(serial))
        return None if raw is None else keys.decode_id(raw)

    def asset_for_meter(self, state: StateReader, meter_id: str) -> int | None:
        raw = state.get(keys.meter_key(meter_id))
        return None if raw is None else keys.decode_id(raw)

    # -- history -----------------------------------------------------------------------

    def append_history(self, state: Overlay, asset_id: int, asset: Asset,
                       entry: HistoryEntry) -> None:
        """Append ``entry``; the caller saves ``asset`` (its history_length grows)."""
        state.set(keys.history_key(asset_id, asset.history_length),
                  codec.encode(entry.to_list()))
        asset.history_length += 1

    def history(self, state: StateReader, asset_id: int) -> list[HistoryEntry]:
        return [HistoryEntry(*codec.decode(raw))
                for _, raw in state.iterate(keys.history_prefix(asset_id))]

    def last_history_entry(self, state: StateReader, asset_id: int,
                           asset: Asset) -> HistoryEntry | None:
        if asset.history_length == 0:
            return None
        raw = state.get(keys.history_key(asset_id, asset.history_length - 1))
        return None if raw is None else HistoryEntry(*codec.decode(raw))

    # -- certifications ----------------------------------------------------------------

    def add_certification(self, state: Overlay, asset_id: int, asset: Asset,
                          certification: Certification) -> int:
        """Store a certification; the caller saves ``asset``. Returns its sequence."""
        seq = asset.certification_count
        state.set(keys.certification_key(asset_id, seq), codec.encode(certification.to_list()))
        for key, value in certification_derived_keys(asset_id, seq, certification).items():
            state.set(key, value)
        asset.certification_count += 1
        return seq

    def certifications(self, state: StateReader, asset_id: int) -> list[Certification]:
        return [Certification(*codec.decode(raw))
                for _, raw in state.iterate(keys.certification_prefix(asset_id))]

    def certificate_holder(self, state: StateReader, scheme: str,
                           certificate_id: str) -> tuple[int, int] | None:
        raw = state.get(keys.certificate_id_key(scheme, certificate_id))
        if raw is None:
            return None
        asset_id, seq = codec.decode(raw)
        return int(asset_id), int(seq)

    def iterate_expiring(self, state: StateReader,
                         before_ms: int) -> Iterator[tuple[int, int, int]]:
        """(valid_to_ms, asset id, seq) of certifications ending before ``before_ms``."""
        for key, _ in state.iterate(keys.EXPIRY_PREFIX):
            valid_to, asset_id, seq = keys.decode_expiry_key(key)
            if valid_to >= before_ms:
                return
            yield valid_to, asset_id, seq

    def get_certification(self, state: StateReader, asset_id: int,
                          seq: int) -> Certification | None:
        raw = state.get(keys.certification_key(asset_id, seq))
        return None if raw is None else Certification(*codec.decode(raw))

    # -- what metering and trading read ------------------------------------------------

    def active_capacity(self, state: StateReader, asset_id: int, at_ms: int) -> int:
        asset = self.get_asset(state, asset_id)
        if asset is None or asset.status != ACTIVE or at_ms < asset.commissioned_ms:
            return 0
        return asset.capacity_w

    def is_renewable(self, state: StateReader, asset_id: int, at_ms: int) -> bool:
        asset = self.get_asset(state, asset_id)
        if asset is None or asset.asset_type not in RENEWABLE_TYPES:
            return False
        if asset.status != ACTIVE or at_ms < asset.commissioned_ms:
            return False
        return any(c.is_valid_at(at_ms) for c in self.certifications(state, asset_id))

    def assets_of(self, state: StateReader, account: bytes) -> list[int]:
        return list(self.asset_ids(state, keys.by_owner_prefix(account)))

    def zone_operator(self, state: StateReader, zone_id: str) -> bytes | None:
        zone = self.get_zone(state, zone_id)
        return None if zone is None else zone.operator

    def zone_of(self, state: StateReader, asset_id: int) -> str | None:
        asset = self.get_asset(state, asset_id)
        return None if asset is None else asset.zone_id

    # -- what balancing reads ----------------------------------------------------------

    def zone_ids(self, state: StateReader) -> list[str]:
        """Every registered zone id, ascending."""
        return [zone_id for zone_id, _ in self.iterate_zones(state)]

    def zone_capacity(self, state: StateReader, zone_id: str, asset_type: str,
                      at_ms: int) -> int:
        """Nameplate W of the zone's active assets of ``asset_type`` commissioned by
        ``at_ms``."""
        total = 0
        for asset_id in self.asset_ids(state, keys.by_zone_prefix(zone_id)):
            asset = self.get_asset(state, asset_id)
            if asset is not None and asset.asset_type == asset_type:
                total += self.active_capacity(state, asset_id, at_ms)
        return total

    def zone_hosting(self, state: StateReader, zone_id: str) -> tuple[int, int] | None:
        """(hosting capacity W, connected W) of a zone; None when it is not registered."""
        zone = self.get_zone(state, zone_id)
        return None if zone is None else (zone.hosting_capacity_w, zone.connected_w)

    def zone_asset_ids(self, state: StateReader, zone_id: str) -> list[int]:
        """Ids of every asset registered in a zone, ascending."""
        return list(self.asset_ids(state, keys.by_zone_prefix(zone_id)))
