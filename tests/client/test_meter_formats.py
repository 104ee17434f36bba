"""Meter data formats (Green Button XML, OBIS CSV), the interval -> reading
conversion and the simulated meters: exact integers, registers never back."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from meter_file_helpers import T, green_button

from wattchain.client.gateway import plan_intervals, plan_registers
from wattchain.client.meter_formats import (
    FormatError,
    IntervalValue,
    interval_readings,
    load_green_button,
    load_obis_csv,
    parse_green_button,
    parse_obis_csv,
)
from wattchain.client.simulated_meters import SimulatedMeter


def test_green_button_odd_intervals_multiplier_and_both_directions(tmp_path: Path) -> None:
    # import in daWh (multiplier 1); the clock-change hour is 7200 s, then a 0 s
    # interval, then a 2700 s one; export (received) in whole Wh
    imports = [(T, 3600, 123), (T + 3600, 7200, 250), (T + 10800, 0, 0),
               (T + 10800, 2700, 41)]
    exports = [(T, 3600, 0), (T + 3600, 7200, 7), (T + 10800, 2700, 1_000_001)]
    path = tmp_path / "usage.xml"
    path.write_text(green_button([(1, 1, 1, imports), (2, 19, 0, exports)]))
    intervals = load_green_button(path)
    assert intervals == [
        IntervalValue(T * 1000, 3_600_000, 1230, 0),
        IntervalValue((T + 3600) * 1000, 7_200_000, 2500, 7),
        IntervalValue((T + 10800) * 1000, 0, 0, 0),
        IntervalValue((T + 10800) * 1000, 2_700_000, 410, 1_000_001),
    ]
    readings = interval_readings(intervals, base_import_wh=10_000)
    assert [(r.seq, r.time_ms - T * 1000, r.import_wh, r.export_wh) for r in readings] == [
        (1, 0, 10_000, 0), (2, 3_600_000, 11_230, 0), (3, 10_800_000, 13_730, 7),
        (4, 13_500_000, 14_140, 1_000_008)]


def test_negative_multiplier_keeps_every_fraction_of_a_wh() -> None:
    # 0.1 Wh units: 3 x 0.5 Wh must not floor to 0 each time
    xml = green_button([(1, 1, -1, [(T + i * 900, 900, 5) for i in range(3)])])
    intervals = parse_green_button(xml)
    assert [i.import_wh for i in intervals] == [0, 1, 0]
    assert sum(i.import_wh for i in intervals) == 15 // 10


def test_net_flow_splits_by_sign_and_bad_files_are_refused() -> None:
    net = parse_green_button(green_button([(1, 4, 0, [(T, 900, 40), (T + 900, 900, -25)])]))
    assert [(i.import_wh, i.export_wh) for i in net] == [(40, 0), (0, 25)]
    with pytest.raises(FormatError, match="overlaps"):
        parse_green_button(green_button([(1, 1, 0, [(T, 3600, 1), (T + 1800, 900, 1)])]))
    with pytest.raises(FormatError, match="uom 38"):
        parse_green_button(green_button([(1, 1, 0, [(T, 900, 1)])]).replace(
            "<espi:uom>72", "<espi:uom>38"))
    with pytest.raises(FormatError, match="not XML"):
        parse_green_button("<feed>")


OBIS_KWH = """timestamp,1-0:1.8.0 [kWh],1-0:2.8.0 [kWh]
2026-03-29T01:45:00+01:00,12345.678,10.000
2026-03-29T03:15:00+02:00,12346.0005,10.250
2026-03-29T03:30:00+02:00,12346.900,10.250
2026-03-29T03:00:00+02:00,12345.900,10.001
"""

OBIS_UNIT_COLUMNS = """Zeitstempel;1-0:1.8.1*255;Einheit;1-0:1.8.2*255;Einheit;1-0:2.8.0*255;Einheit
2026-03-29T00:00:00Z;100,5;Wh;2000;Wh;0;Wh
2026-03-29T00:15:00Z;180,9;Wh;2000;Wh;12;Wh
"""


def test_obis_csv_in_kwh_and_wh_with_offsets(tmp_path: Path) -> None:
    path = tmp_path / "meter.csv"
    path.write_text(OBIS_KWH)
    rows = load_obis_csv(path)
    base = 1_774_745_100_000  # 2026-03-29T00:45:00Z
    assert rows == [(base, 12_345_678, 10_000), (base + 900_000, 12_345_900, 10_001),
                    (base + 1_800_000, 12_346_000, 10_250),
                    (base + 2_700_000, 12_346_900, 10_250)]
    assert parse_obis_csv(OBIS_UNIT_COLUMNS) == [
        (1_774_742_400_000, 2_100, 0), (1_774_743_300_000, 2_180, 12)]


def test_obis_csv_refuses_backwards_registers_and_missing_units() -> None:
    backwards = "time,1-0:1.8.0 [Wh]\n2026-01-01T00:00:00Z,10\n2026-01-01T00:15:00Z,9\n"
    with pytest.raises(FormatError, match="backwards"):
        parse_obis_csv(backwards)
    with pytest.raises(FormatError, match="no unit"):
        parse_obis_csv("time,1-0:1.8.0\n2026-01-01T00:00:00Z,10\n")
    with pytest.raises(FormatError, match="no UTC offset"):
        parse_obis_csv("time,1-0:1.8.0 [Wh]\n2026-01-01T00:00:00,10\n")
    with pytest.raises(FormatError, match="line 2"):
        parse_obis_csv("time,1-0:1.8.0 [Wh]\n2026-01-01T00:00:00Z,ten\n")


def test_plans_resume_after_the_chain() -> None:
    intervals = [IntervalValue(i * 60_000, 60_000, 10, 1) for i in range(5)]
    fresh = {"last_seq": 0, "last_time_ms": 0, "import_wh": 0, "export_wh": 0}
    assert [r.seq for r in plan_intervals(intervals, fresh, 500)] == [1, 2, 3, 4, 5, 6]
    held = {"last_seq": 9, "last_time_ms": 180_000, "import_wh": 900, "export_wh": 90}
    plan = plan_intervals(intervals, held)
    assert [(r.seq, r.time_ms, r.import_wh, r.export_wh) for r in plan] == [
        (10, 240_000, 910, 91), (11, 300_000, 920, 92)]
    rows = [(60_000, 5, 0), (120_000, 8, 0), (180_000, 9, 0)]
    assert [r.seq for r in plan_registers(rows, {**held, "last_time_ms": 60_000,
                                                 "import_wh": 5, "export_wh": 0})] == [10, 11]


@given(st.lists(st.tuples(st.integers(0, 7200), st.integers(0, 10**6), st.integers(0, 10**6)),
                max_size=30),
       st.integers(-3, 3), st.integers(0, 10**9))
def test_registers_never_go_backwards_and_totals_are_exact(
        raw: list[tuple[int, int, int]], power: int, base: int) -> None:
    start, imports, exports = T, [], []
    for duration, import_value, export_value in raw:
        imports.append((start, duration, import_value))
        exports.append((start, duration, export_value))
        start += duration
    if not raw:
        return
    intervals = parse_green_button(green_button([(1, 1, power, imports),
                                                 (2, 19, power, exports)]))
    readings = interval_readings(intervals, base, base)
    for earlier, later in zip(readings, readings[1:], strict=False):
        assert later.time_ms > earlier.time_ms and later.seq == earlier.seq + 1
        assert later.import_wh >= earlier.import_wh and later.export_wh >= earlier.export_wh
    exact = sum(value for _, _, value in imports) * 10**(power + 3) // 1000
    assert readings[-1].import_wh - base == exact


def test_simulated_meters_are_deterministic_and_shaped() -> None:
    day = 1_782_864_000_000  # 2026-07-01 00:00 UTC
    for profile in ("household", "pv", "ev"):
        one = SimulatedMeter(profile, seed=7).intervals(day, 3_600_000, 48)
        assert one == SimulatedMeter(profile, seed=7).intervals(day, 3_600_000, 48)
        assert all(type(v) is int and v >= 0 for item in one for v in item)
        later = SimulatedMeter(profile, seed=7).intervals(day + 3_600_000, 3_600_000, 1)
        assert later[0] == one[1]  # a function of the interval, not of the range asked
    hours = [v[2] for v in SimulatedMeter("household", 3).intervals(day, 3_600_000, 24)]
    assert max(hours[17:22]) > 2 * min(hours[1:5])  # evening peak over the night base
    pv = [v[3] for v in SimulatedMeter("pv", 3).intervals(day, 3_600_000, 24)]
    assert pv[0] == pv[1] == pv[23] == 0 and max(pv[10:15]) > 0
    assert SimulatedMeter("household", 1).intervals(day, 60_000, 5) != \
        SimulatedMeter("household", 2).intervals(day, 60_000, 5)
