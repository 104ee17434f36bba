"""State reads and writes of the balancing module."""

from __future__ import annotations

from collections.abc import Iterator

from wattchain import codec
from wattchain.modules.balancing import keys
from wattchain.modules.balancing.types import (
    BalancingParams,
    DispatchRecord,
    Emergency,
    FlexAsset,
    IntervalRecord,
    LogEntry,
    ZoneModel,
)
from wattchain.vm.params import ParamsKeeper
from wattchain.vm.state import Overlay, StateReader


class BalancingKeeper(ParamsKeeper[BalancingParams]):
    def __init__(self) -> None:
        super().__init__(keys.PARAMS_KEY, BalancingParams)

    def get_next(self, state: StateReader) -> int | None:
        """Start of the next interval to process; None before the first end_block."""
        raw = state.get(keys.NEXT_KEY)
        return None if raw is None else int(codec.decode(raw))

    def set_next(self, state: Overlay, interval_start: int) -> None:
        state.set(keys.NEXT_KEY, codec.encode(interval_start))

    def get_next_dispatch(self, state: StateReader) -> int | None:
        raw = state.get(keys.NEXT_DISPATCH_KEY)
        return None if raw is None else int(codec.decode(raw))

    def set_next_dispatch(self, state: Overlay, interval_start: int) -> None:
        state.set(keys.NEXT_DISPATCH_KEY, codec.encode(interval_start))

    def get_record(self, state: StateReader, zone: str,
                   interval_start: int) -> IntervalRecord | None:
        raw = state.get(keys.record_key(zone, interval_start))
        return None if raw is None else IntervalRecord(*codec.decode(raw))

    def set_record(self, state: Overlay, zone: str, interval_start: int,
                   record: IntervalRecord) -> None:
        state.set(keys.record_key(zone, interval_start), codec.encode(record.to_list()))

    def delete_record(self, state: Overlay, zone: str, interval_start: int) -> None:
        state.delete(keys.record_key(zone, interval_start))

    def iterate_records(self, state: StateReader,
                        zone: str | None = None) -> Iterator[tuple[str, int, IntervalRecord]]:
        prefix = keys.RECORD_PREFIX if zone is None else keys.zone_prefix(zone)
        for key, raw in state.iterate(prefix):
            record_zone, start = keys.split_record_key(key)
            yield record_zone, start, IntervalRecord(*codec.decode(raw))

    def get_model(self, state: StateReader, zone: str) -> ZoneModel:
        raw = state.get(keys.model_key(zone))
        return ZoneModel() if raw is None else ZoneModel.from_list(codec.decode(raw))

    def set_model(self, state: Overlay, zone: str, model: ZoneModel) -> None:
        state.set(keys.model_key(zone), codec.encode(model.to_list()))

    def iterate_models(self, state: StateReader) -> Iterator[tuple[str, ZoneModel]]:
        for key, raw in state.iterate(keys.MODEL_PREFIX):
            yield key[len(keys.MODEL_PREFIX):].decode(), ZoneModel.from_list(codec.decode(raw))

    def get_bounds(self, state: StateReader, zone: str) -> tuple[int, int] | None:
        raw = state.get(keys.bounds_key(zone))
        if raw is None:
            return None
        floor, ceiling = codec.decode(raw)
        return int(floor), int(ceiling)

    def set_bounds(self, state: Overlay, zone: str, floor: int, ceiling: int) -> None:
        state.set(keys.bounds_key(zone), codec.encode([floor, ceiling]))

    def iterate_bounds(self, state: StateReader) -> Iterator[tuple[str, int, int]]:
        for key, raw in state.iterate(keys.BOUNDS_PREFIX):
            floor, ceiling = codec.decode(raw)
            yield key[len(keys.BOUNDS_PREFIX):].decode(), int(floor), int(ceiling)

    # -- flexibility ----------------------------------------------------------------------

    def get_flex(self, state: StateReader, asset_id: int) -> FlexAsset | None:
        raw = state.get(keys.flex_key(asset_id))
        return None if raw is None else FlexAsset.from_list(codec.decode(raw))

    def set_flex(self, state: Overlay, asset_id: int, flex: FlexAsset) -> None:
        state.set(keys.flex_key(asset_id), codec.encode(flex.to_list()))
        state.set(keys.flex_zone_key(flex.zone, asset_id), b"")

    def delete_flex(self, state: Overlay, asset_id: int, zone: str) -> None:
        state.delete(keys.flex_key(asset_id))
        state.delete(keys.flex_zone_key(zone, asset_id))

    def zone_flex(self, state: StateReader, zone: str) -> list[tuple[int, FlexAsset]]:
        """The zone's flexible assets, by ascending asset id."""
        prefix = keys.flex_zone_prefix(zone)
        found = []
        for key, _ in state.iterate(prefix):
            asset_id = int.from_bytes(key[len(prefix):], "big")
            flex = self.get_flex(state, asset_id)
            if flex is not None:
                found.append((asset_id, flex))
        return found

    def iterate_flex(self, state: StateReader) -> Iterator[tuple[int, FlexAsset]]:
        for key, raw in state.iterate(keys.FLEX_PREFIX):
            yield (int.from_bytes(key[len(keys.FLEX_PREFIX):], "big"),
                   FlexAsset.from_list(codec.decode(raw)))

    def iterate_flex_index(self, state: StateReader) -> Iterator[tuple[str, int]]:
        for key, _ in state.iterate(keys.FLEX_ZONE_PREFIX):
            zone, _, encoded = key[len(keys.FLEX_ZONE_PREFIX):].partition(b"\0")
            yield zone.decode(), int.from_bytes(encoded, "big")

    # -- dispatch -------------------------------------------------------------------------

    def get_dispatch(self, state: StateReader, zone: str,
                     interval_start: int) -> DispatchRecord | None:
        raw = state.get(keys.dispatch_key(zone, interval_start))
        return None if raw is None else DispatchRecord.from_list(codec.decode(raw))

    def set_dispatch(self, state: Overlay, zone: str, interval_start: int,
                     record: DispatchRecord) -> None:
        state.set(keys.dispatch_key(zone, interval_start), codec.encode(record.to_list()))

    def delete_dispatch(self, state: Overlay, zone: str, interval_start: int) -> None:
        state.delete(keys.dispatch_key(zone, interval_start))

    def iterate_dispatches(self, state: StateReader, zone: str | None = None
                           ) -> Iterator[tuple[str, int, DispatchRecord]]:
        prefix = keys.DISPATCH_PREFIX if zone is None else keys.dispatch_zone_prefix(zone)
        for key, raw in state.iterate(prefix):
            name, _, encoded = key[len(keys.DISPATCH_PREFIX):].partition(b"\0")
            yield (name.decode(), int.from_bytes(encoded, "big"),
                   DispatchRecord.from_list(codec.decode(raw)))

    # -- emergencies ----------------------------------------------------------------------

    def get_emergency(self, state: StateReader, zone: str) -> Emergency | None:
        raw = state.get(keys.emergency_key(zone))
        return None if raw is None else Emergency(*codec.decode(raw))

    def set_emergency(self, state: Overlay, zone: str, emergency: Emergency | None) -> None:
        if emergency is None:
            state.delete(keys.emergency_key(zone))
        else:
            state.set(keys.emergency_key(zone), codec.encode(emergency.to_list()))

    def iterate_emergencies(self, state: StateReader) -> Iterator[tuple[str, Emergency]]:
        for key, raw in state.iterate(keys.EMERGENCY_PREFIX):
            yield key[len(keys.EMERGENCY_PREFIX):].decode(), Emergency(*codec.decode(raw))

    def append_log(self, state: Overlay, zone: str, entry: LogEntry) -> int:
        seq = sum(1 for _ in state.iterate(keys.log_prefix(zone)))
        state.set(keys.log_key(zone, seq), codec.encode(entry.to_list()))
        return seq

    def log(self, state: StateReader, zone: str | None = None
            ) -> Iterator[tuple[str, int, LogEntry]]:
        prefix = keys.LOG_PREFIX if zone is None else keys.log_prefix(zone)
        for key, raw in state.iterate(prefix):
            name, _, encoded = key[len(keys.LOG_PREFIX):].partition(b"\0")
            yield name.decode(), int.from_bytes(encoded, "big"), LogEntry(*codec.decode(raw))

    # -- resilience -----------------------------------------------------------------------

    def get_resilience(self, state: StateReader, zone: str) -> dict[str, int] | None:
        raw = state.get(keys.resilience_key(zone))
        if raw is None:
            return None
        names, values = codec.decode(raw)
        return dict(zip(names, values, strict=True))

    def set_resilience(self, state: Overlay, zone: str, figures: dict[str, int]) -> None:
        names = sorted(figures)
        state.set(keys.resilience_key(zone),
                  codec.encode([names, [figures[name] for name in names]]))

    def iterate_resilience(self, state: StateReader) -> Iterator[tuple[str, dict[str, int]]]:
        for key, _ in state.iterate(keys.RESILIENCE_PREFIX):
            zone = key[len(keys.RESILIENCE_PREFIX):].decode()
            figures = self.get_resilience(state, zone)
            if figures is not None:
                yield zone, figures
