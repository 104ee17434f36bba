"""State reads and writes of the metering module: meters, readings, the
sequence-gap index and interval energy per meter, account and zone.

Account and zone records are kept in step with meter records by
``add_span``: every change to a meter's intervals is applied, with the same
sign, to its account and zone (unless it is a submeter).
"""

from __future__ import annotations

from collections.abc import Iterator

from wattchain import codec
from wattchain.modules.metering import keys
from wattchain.modules.metering.spans import is_estimated, split_span
from wattchain.modules.metering.types import (
    IntervalEnergy,
    Meter,
    MeteringParams,
    Reading,
)
from wattchain.vm.params import ParamsKeeper
from wattchain.vm.state import Overlay, StateReader

GAP_PREFIX = b"met/g/"  # meter/seq_before -> seq_after, where sequence numbers are missing


def gaps_prefix(meter_id: str) -> bytes:
    return GAP_PREFIX + meter_id.encode() + b"/"


def gap_key(meter_id: str, seq_before: int) -> bytes:
    return gaps_prefix(meter_id) + keys.be64(seq_before)


def _energy(raw: bytes | None) -> IntervalEnergy:
    return IntervalEnergy() if raw is None else IntervalEnergy(*codec.decode(raw))


class MeteringKeeper(ParamsKeeper[MeteringParams]):
    def __init__(self) -> None:
        super().__init__(keys.PARAMS_KEY, MeteringParams)

    # -- meters ------------------------------------------------------------------------

    def get_meter(self, state: StateReader, meter_id: str) -> Meter | None:
        raw = state.get(keys.meter_key(meter_id))
        return None if raw is None else Meter.from_list(codec.decode(raw))

    def save_meter(self, state: Overlay, meter_id: str, meter: Meter,
                   old_key: bytes | None = None) -> None:
        if old_key is not None and old_key != meter.public_key:
            state.delete(keys.key_index_key(old_key))
        state.set(keys.key_index_key(meter.public_key), meter_id.encode())
        state.set(keys.meter_key(meter_id), codec.encode(meter.to_list()))

    def meter_for_key(self, state: StateReader, public_key: bytes) -> str | None:
        raw = state.get(keys.key_index_key(public_key))
        return None if raw is None else raw.decode()

    def iterate_meters(self, state: StateReader) -> Iterator[tuple[str, Meter]]:
        start = len(keys.METER_PREFIX)
        for key, raw in state.iterate(keys.METER_PREFIX):
            yield key[start:].decode(), Meter.from_list(codec.decode(raw))

    # -- readings ----------------------------------------------------------------------

    def get_reading(self, state: StateReader, meter_id: str, seq: int) -> Reading | None:
        raw = state.get(keys.reading_key(meter_id, seq))
        return None if raw is None else Reading(*codec.decode(raw))

    def set_reading(self, state: Overlay, meter_id: str, seq: int, reading: Reading) -> None:
        state.set(keys.reading_key(meter_id, seq), codec.encode(reading.to_list()))

    def readings(self, state: StateReader, meter_id: str) -> Iterator[tuple[int, Reading]]:
        start = len(keys.readings_prefix(meter_id))
        for key, raw in state.iterate(keys.readings_prefix(meter_id)):
            yield keys.read_be64(key[start:]), Reading(*codec.decode(raw))

    def gap_around(self, state: StateReader, meter_id: str, seq: int) -> tuple[int, int] | None:
        """The (seq before, seq after) of the sequence gap ``seq`` falls in, if any."""
        start = len(gaps_prefix(meter_id))
        for key, raw in state.iterate(gaps_prefix(meter_id)):
            before, after = keys.read_be64(key[start:]), keys.read_be64(raw)
            if before < seq < after:
                return before, after
            if before > seq:
                return None
        return None

    def gaps(self, state: StateReader, meter_id: str) -> list[tuple[int, int]]:
        start = len(gaps_prefix(meter_id))
        return [(keys.read_be64(key[start:]), keys.read_be64(raw))
                for key, raw in state.iterate(gaps_prefix(meter_id))]

    def set_gap(self, state: Overlay, meter_id: str, before: int, after: int) -> None:
        """Record the gap between two stored sequences (nothing when they are adjacent)."""
        if after - before > 1:
            state.set(gap_key(meter_id, before), keys.be64(after))

    def delete_gap(self, state: Overlay, meter_id: str, before: int) -> None:
        state.delete(gap_key(meter_id, before))

    # -- interval energy ---------------------------------------------------------------

    def add_span(self, state: Overlay, meter_id: str, meter: Meter, earlier: Reading,
                 later: Reading, interval_ms: int, params: MeteringParams,
                 sign: int = 1) -> None:
        """Add (sign 1) or take back (sign -1) the energy between two readings."""
        estimated = sign if is_estimated(earlier.time_ms, later.time_ms, interval_ms) else 0
        shares = split_span(earlier.time_ms, later.time_ms,
                            later.import_wh - earlier.import_wh,
                            later.export_wh - earlier.export_wh, interval_ms,
                            params.max_gap_intervals)
        targets = [keys.meter_intervals_prefix(meter_id)]
        if not meter.submeter:
            targets += [keys.account_intervals_prefix(meter.account),
                        keys.zone_intervals_prefix(meter.zone_id)]
        for start_ms, import_wh, export_wh in shares:
            for prefix in targets:
                self.add_energy(state, prefix + keys.be64(start_ms), sign * import_wh,
                                 sign * export_wh, estimated)

    def add_energy(self, state: Overlay, key: bytes, import_wh: int, export_wh: int,
                    estimated: int) -> None:
        energy = _energy(state.get(key))
        energy.import_wh += import_wh
        energy.export_wh += export_wh
        energy.estimated += estimated
        if energy.empty:
            state.delete(key)
        else:
            state.set(key, codec.encode(energy.to_list()))

    def interval_records(self, state: StateReader,
                         prefix: bytes) -> Iterator[tuple[int, IntervalEnergy]]:
        start = len(prefix)
        for key, raw in state.iterate(prefix):
            yield keys.read_be64(key[start:]), IntervalEnergy(*codec.decode(raw))

    def closed_until(self, state: StateReader) -> int:
        raw = state.get(keys.CLOSED_KEY)
        return 0 if raw is None else int(codec.decode(raw))

    def set_closed_until(self, state: Overlay, start_ms: int) -> None:
        state.set(keys.CLOSED_KEY, codec.encode(start_ms))

    # -- what trading and balancing read -----------------------------------------------

    def meter_energy(self, state: StateReader, meter_id: str, start_ms: int) -> IntervalEnergy:
        return _energy(state.get(keys.meter_interval_key(meter_id, start_ms)))

    def account_energy(self, state: StateReader, account: bytes,
                       start_ms: int) -> IntervalEnergy:
        return _energy(state.get(keys.account_interval_key(account, start_ms)))

    def zone_energy(self, state: StateReader, zone_id: str, start_ms: int) -> IntervalEnergy:
        return _energy(state.get(keys.zone_interval_key(zone_id, start_ms)))
