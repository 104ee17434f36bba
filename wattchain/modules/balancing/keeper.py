"""State reads and writes of the balancing module."""

from __future__ import annotations

from collections.abc import Iterator

from wattchain import codec
from wattchain.modules.balancing import keys
from wattchain.modules.balancing.types import BalancingParams, IntervalRecord, ZoneModel
from wattchain.vm.state import Overlay, StateReader


class BalancingKeeper:
    def get_params(self, state: StateReader) -> BalancingParams:
        raw = state.get(keys.PARAMS_KEY)
        return BalancingParams() if raw is None else BalancingParams(*codec.decode(raw))

    def set_params(self, state: Overlay, params: BalancingParams) -> None:
        state.set(keys.PARAMS_KEY, codec.encode(params.to_list()))

    def get_next(self, state: StateReader) -> int | None:
        """Start of the next interval to process; None before the first end_block."""
        raw = state.get(keys.NEXT_KEY)
        return None if raw is None else int(codec.decode(raw))

    def set_next(self, state: Overlay, interval_start: int) -> None:
        state.set(keys.NEXT_KEY, codec.encode(interval_start))

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
