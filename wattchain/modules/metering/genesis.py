"""Genesis import and export of the metering module.

Section shape (every field optional; export writes all of them)::

    {"params": {..MeteringParams..}, "closed_until_ms": 0,
     "meters": [{<the metering/meter view>, "readings": [..], "intervals": [..]}],
     "tariffs": [..], "bills": [..]}

Account and zone intervals, the gap index and the key index are derived and
rebuilt on import, so export -> import is exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wattchain import codec
from wattchain.modules.metering import keys, views
from wattchain.modules.metering.keeper import MeteringKeeper
from wattchain.modules.metering.types import METER_STATUSES, METER_TYPES, MeteringParams
from wattchain.vm.fields import GenesisFields, check_section
from wattchain.vm.state import Overlay, StateReader

SECTION_FIELDS = {"params", "closed_until_ms", "meters", "tariffs", "bills"}
FIELDS = GenesisFields(ValueError)


def import_meter(keeper: MeteringKeeper, state: Overlay, entry: Any, where: str) -> None:
    try:
        meter_id, meter = views.meter_from_json(entry)
        readings = [views.reading_from_json(r) for r in FIELDS.entries(entry, "readings")]
        intervals = [views.energy_from_json(e) for e in FIELDS.entries(entry, "intervals")]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"{where}: missing or malformed field ({exc})") from None
    if meter.meter_type not in METER_TYPES or meter.status not in METER_STATUSES:
        raise ValueError(f"{where}: unknown meter type or status")
    if keeper.get_meter(state, meter_id) is not None:
        raise ValueError(f"{where}: duplicate meter {meter_id!r}")
    if keeper.meter_for_key(state, meter.public_key) is not None:
        raise ValueError(f"{where}: meter key used twice")
    keeper.save_meter(state, meter_id, meter)
    previous = 0
    for seq, reading in readings:
        if seq <= previous:
            raise ValueError(f"{where}: readings must be in increasing sequence")
        keeper.set_reading(state, meter_id, seq, reading)
        if previous:
            keeper.set_gap(state, meter_id, previous, seq)
        previous = seq
    targets = [keys.meter_intervals_prefix(meter_id)]
    if not meter.submeter:
        targets += [keys.account_intervals_prefix(meter.account),
                    keys.zone_intervals_prefix(meter.zone_id)]
    for start_ms, energy in intervals:
        for prefix in targets:
            keeper.add_energy(state, prefix + keys.be64(start_ms), energy.import_wh,
                               energy.export_wh, energy.estimated)


def init_genesis(keeper: MeteringKeeper, state: Overlay, section: Mapping[str, Any]) -> None:
    check_section(section, "metering", SECTION_FIELDS)
    keeper.set_params(state, MeteringParams.from_json(dict(section.get("params", {}))))
    closed = section.get("closed_until_ms", 0)
    if type(closed) is not int or closed < 0:
        raise ValueError("closed_until_ms must be a non-negative integer")
    if closed:
        keeper.set_closed_until(state, closed)
    for index, entry in enumerate(FIELDS.entries(section, "meters")):
        import_meter(keeper, state, entry, f"meters[{index}]")
    import_tariffs_and_bills(keeper, state, section)


def import_tariffs_and_bills(keeper: MeteringKeeper, state: Overlay,
                             section: Mapping[str, Any]) -> None:
    """Tariffs and bills arrive as stored (canonical lists, hex-encoded)."""
    for name in ("tariffs", "bills"):
        for index, entry in enumerate(FIELDS.entries(section, name)):
            try:
                key, value = bytes.fromhex(entry["key"]), bytes.fromhex(entry["value"])
                codec.decode(value)
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{name}[{index}]: malformed ({exc})") from None
            prefix = keys.TARIFF_PREFIX if name == "tariffs" else keys.BILL_PREFIX
            if not key.startswith(prefix):
                raise ValueError(f"{name}[{index}]: key outside {prefix!r}")
            state.set(key, value)


def export_genesis(keeper: MeteringKeeper, state: StateReader) -> dict[str, Any]:
    meters = []
    for meter_id, meter in keeper.iterate_meters(state):
        prefix = keys.meter_intervals_prefix(meter_id)
        meters.append({
            **views.meter_json(meter_id, meter),
            "readings": [views.reading_json(s, r) for s, r in keeper.readings(state, meter_id)],
            "intervals": [views.energy_json(s, e)
                          for s, e in keeper.interval_records(state, prefix)],
        })
    return {
        "params": keeper.params(state).to_json(),
        "closed_until_ms": keeper.closed_until(state),
        "meters": meters,
        "tariffs": [{"key": k.hex(), "value": v.hex()}
                    for k, v in state.iterate(keys.TARIFF_PREFIX)],
        "bills": [{"key": k.hex(), "value": v.hex()} for k, v in state.iterate(keys.BILL_PREFIX)],
    }
