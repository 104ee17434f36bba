"""Invariants of the metering module, checked in tests after every block.

* Each meter's record matches its readings: last sequence, count, registers.
* Its interval energy adds up to its registers' advance since the first
  reading; no interval is negative.
* The gap index lists exactly the missing sequence ranges; the key index
  names each meter's key.
* Account and zone intervals equal the sums of their non-submeters' intervals.
"""

from __future__ import annotations

from wattchain import codec
from wattchain.modules.metering import keys
from wattchain.modules.metering.keeper import MeteringKeeper
from wattchain.modules.metering.types import IntervalEnergy, Meter
from wattchain.vm.state import StateReader

Totals = dict[bytes, list[int]]


def meter_problems(keeper: MeteringKeeper, state: StateReader, meter_id: str,
                   meter: Meter) -> list[str]:
    where = f"metering: meter {meter_id!r}"
    problems = []
    seqs = [seq for seq, _ in keeper.readings(state, meter_id)]
    if len(seqs) != meter.reading_count or (seqs[-1] if seqs else 0) != meter.last_seq:
        problems.append(f"{where} record does not match its {len(seqs)} readings")
    last = keeper.get_reading(state, meter_id, meter.last_seq)
    if last is not None and (last.time_ms, last.import_wh, last.export_wh) != (
            meter.last_time_ms, meter.import_wh, meter.export_wh):
        problems.append(f"{where} registers differ from its last reading")
    gaps = [(a, b) for a, b in zip(seqs, seqs[1:], strict=False) if b - a > 1]
    if keeper.gaps(state, meter_id) != gaps:
        problems.append(f"{where} gap index out of step")
    total = IntervalEnergy()
    for start_ms, energy in keeper.interval_records(state, keys.meter_intervals_prefix(meter_id)):
        if min(energy.import_wh, energy.export_wh, energy.estimated) < 0:
            problems.append(f"{where} has negative energy at {start_ms}")
        total.import_wh += energy.import_wh
        total.export_wh += energy.export_wh
    if (total.import_wh, total.export_wh) != (meter.import_wh - meter.first_import_wh,
                                              meter.export_wh - meter.first_export_wh):
        problems.append(f"{where} intervals sum to {total.import_wh}/{total.export_wh} Wh, "
                        "not its registers' advance")
    if keeper.meter_for_key(state, meter.public_key) != meter_id:
        problems.append(f"{where} key index out of step")
    return problems


def _add(totals: Totals, key: bytes, energy: IntervalEnergy) -> None:
    record = totals.setdefault(key, [0, 0, 0])
    record[0] += energy.import_wh
    record[1] += energy.export_wh
    record[2] += energy.estimated


def expected_aggregates(keeper: MeteringKeeper, state: StateReader) -> Totals:
    """Account and zone interval records as the meter records say they must be."""
    totals: Totals = {}
    for meter_id, meter in keeper.iterate_meters(state):
        if meter.submeter:
            continue
        prefix = keys.meter_intervals_prefix(meter_id)
        for start_ms, energy in keeper.interval_records(state, prefix):
            _add(totals, keys.account_interval_key(meter.account, start_ms), energy)
            _add(totals, keys.zone_interval_key(meter.zone_id, start_ms), energy)
    return {key: value for key, value in totals.items() if any(value)}


def check_all(keeper: MeteringKeeper, state: StateReader) -> list[str]:
    problems: list[str] = []
    for meter_id, meter in keeper.iterate_meters(state):
        problems.extend(meter_problems(keeper, state, meter_id, meter))
    expected = expected_aggregates(keeper, state)
    actual: Totals = {key: list(codec.decode(raw))
                      for prefix in (keys.ACCOUNT_INTERVAL_PREFIX, keys.ZONE_INTERVAL_PREFIX)
                      for key, raw in state.iterate(prefix)}
    if actual != expected:
        problems.append(f"metering: account/zone intervals out of step with meters "
                        f"({len(expected.keys() ^ actual.keys())} keys differ)")
    key_count = sum(1 for _ in state.iterate(keys.KEY_INDEX_PREFIX))
    if key_count != sum(1 for _ in keeper.iterate_meters(state)):
        problems.append("metering: key index holds keys of no meter")
    return problems
