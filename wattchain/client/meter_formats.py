"""Meter data formats a gateway ingests (pure parsing, no network).

* Green Button / ESPI Atom XML: ``ReadingType`` (uom, powerOfTenMultiplier,
  flowDirection) and ``IntervalBlock/IntervalReading`` (timePeriod start and
  duration in s, value) -> interval values.
* DLMS/COSEM OBIS-coded CSV: a timestamp column and cumulative registers
  ``1-0:1.8.x`` (import) and ``1-0:2.8.x`` (export) in Wh or kWh -> readings.
* ``interval_readings``: interval values -> cumulative readings.

Everything is integer arithmetic on exact decimal strings: no float ever
touches a value. Fractions of a Wh are never dropped per interval: registers
are the floor of the exact cumulative sum, so they never go backwards and
their total is exact to below 1 Wh.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

ATOM = "{http://www.w3.org/2005/Atom}"
ESPI = "{http://naesb.org/espi}"
UOM_WH = 72
FLOW_IMPORT, FLOW_NET, FLOW_EXPORT = 1, 4, 19
OBIS = re.compile(r"(?:\d+-\d+:)?([12])\.8\.(\d)(?:\*\d+)?")
UNIT = re.compile(r"\b(k?wh)\b", re.IGNORECASE)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class FormatError(ValueError):
    """The file is not in the format, or its values are inconsistent."""


@dataclass(frozen=True, slots=True)
class IntervalValue:
    start_ms: int
    duration_ms: int
    import_wh: int
    export_wh: int

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.duration_ms


@dataclass(frozen=True, slots=True)
class MeterReading:
    """Cumulative registers at an instant (what a meter signs, less its id)."""

    seq: int
    time_ms: int
    import_wh: int
    export_wh: int


# -- Green Button ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReadingType:
    uom: int
    multiplier: int  # power of ten
    flow: int


def _int_text(element: ET.Element | None, name: str, default: int | None = None) -> int:
    if element is None or element.text is None or not element.text.strip():
        if default is None:
            raise FormatError(f"missing <{name}>")
        return default
    try:
        return int(element.text.strip())
    except ValueError:
        raise FormatError(f"<{name}> is not an integer: {element.text.strip()!r}") from None


def _reading_type(element: ET.Element) -> ReadingType:
    reading_type = ReadingType(_int_text(element.find(ESPI + "uom"), "uom"),
                               _int_text(element.find(ESPI + "powerOfTenMultiplier"),
                                         "powerOfTenMultiplier", 0),
                               _int_text(element.find(ESPI + "flowDirection"),
                                         "flowDirection", FLOW_IMPORT))
    if reading_type.uom != UOM_WH:
        raise FormatError(f"ReadingType uom {reading_type.uom} is not energy in Wh (72)")
    if reading_type.flow not in (FLOW_IMPORT, FLOW_NET, FLOW_EXPORT):
        raise FormatError(f"flowDirection {reading_type.flow} is not 1 (delivered), "
                          "4 (net) or 19 (received)")
    if not -9 <= reading_type.multiplier <= 9:
        raise FormatError(f"powerOfTenMultiplier {reading_type.multiplier} is out of range")
    return reading_type


def _links(entry: ET.Element) -> dict[str, str]:
    return {str(link.get("rel")): str(link.get("href", "")).rstrip("/")
            for link in entry.findall(ATOM + "link")}


def _block_types(root: ET.Element) -> list[tuple[ReadingType, ET.Element]]:
    """Each IntervalBlock with its ReadingType: through the Atom links
    (IntervalBlock -up-> MeterReading -related-> ReadingType) when present,
    else the only ReadingType, else the last one before it in the document."""
    entries = root.findall(ATOM + "entry") if root.tag == ATOM + "feed" else [root]
    types_by_href: dict[str, ReadingType] = {}
    reading_type_of: dict[str, str] = {}
    blocks: list[tuple[ET.Element, str, ReadingType | None]] = []
    last: ReadingType | None = None
    for entry in entries:  # pass 1: every ReadingType and MeterReading link
        links = _links(entry)
        for element in entry.iter(ESPI + "ReadingType"):
            last = _reading_type(element)
            types_by_href[links.get("self", "")] = last
        if entry.find(f".//{ESPI}MeterReading") is not None:
            related = [href for rel, href in links.items() if rel == "related"]
            reading_type_of[links.get("self", "")] = related[0] if related else ""
        for block in entry.iter(ESPI + "IntervalBlock"):
            blocks.append((block, links.get("up", "").removesuffix("/IntervalBlock"), last))
    if not blocks:
        raise FormatError("no IntervalBlock in the file")
    if not types_by_href:
        raise FormatError("no ReadingType in the file")
    only = next(iter(types_by_href.values())) if len(types_by_href) == 1 else None
    result = []
    for block, up, before in blocks:  # pass 2: resolve each block's ReadingType
        chosen = only or types_by_href.get(reading_type_of.get(up, "\0")) or before
        if chosen is None:
            raise FormatError("cannot tell which ReadingType an IntervalBlock uses")
        result.append((chosen, block))
    return result


def parse_green_button(text: str | bytes) -> list[IntervalValue]:
    """Interval values of a Green Button (ESPI) file, sorted by start.

    Delivered (flowDirection 1) counts as import, received (19) as export,
    net (4) by sign. Blocks of both directions over the same intervals merge.
    Zero-length intervals are kept (clock changes); overlaps are an error.
    """
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise FormatError(f"not XML: {exc}") from None
    raw: dict[tuple[int, int], list[int]] = {}  # (start s, duration s) -> [imp, exp] raw
    scales: set[int] = set()
    for reading_type, block in _block_types(root):
        scales.add(reading_type.multiplier)
        for item in block.iter(ESPI + "IntervalReading"):
            period = item.find(ESPI + "timePeriod")
            if period is None:
                raise FormatError("an IntervalReading has no timePeriod")
            start = _int_text(period.find(ESPI + "start"), "start")
            duration = _int_text(period.find(ESPI + "duration"), "duration")
            value = _int_text(item.find(ESPI + "value"), "value")
            if start < 0 or duration < 0:
                raise FormatError(f"interval at {start} has a negative start or duration")
            scaled = value * 10 ** (reading_type.multiplier + 9)  # in nWh: exact integers
            slot = raw.setdefault((start, duration), [0, 0])
            column = 1 if reading_type.flow == FLOW_EXPORT else 0
            if reading_type.flow == FLOW_NET and scaled < 0:
                column, scaled = 1, -scaled
            if scaled < 0:
                raise FormatError(f"interval at {start}: negative value {value} for "
                                  f"flowDirection {reading_type.flow}")
            slot[column] += scaled
    return _to_wh(sorted(raw.items()))


def _to_wh(raw: list[tuple[tuple[int, int], list[int]]]) -> list[IntervalValue]:
    """nWh interval sums -> Wh intervals whose running sums are floors of the exact ones."""
    result: list[IntervalValue] = []
    exact = [0, 0]
    floors = [0, 0]
    previous_end = -1
    for (start, duration), (import_nwh, export_nwh) in raw:
        if start < previous_end:
            raise FormatError(f"interval at {start} overlaps the one before it")
        previous_end = start + duration
        exact = [exact[0] + import_nwh, exact[1] + export_nwh]
        now = [exact[0] // 10**9, exact[1] // 10**9]
        result.append(IntervalValue(start * 1000, duration * 1000, now[0] - floors[0],
                                    now[1] - floors[1]))
        floors = now
    return result


def load_green_button(path: Path) -> list[IntervalValue]:
    return parse_green_button(path.read_bytes())


# -- intervals -> readings -----------------------------------------------------------------


def interval_readings(intervals: list[IntervalValue], base_import_wh: int = 0,
                      base_export_wh: int = 0, first_seq: int = 1,
                      baseline: bool = True) -> list[MeterReading]:
    """Cumulative readings at each interval's end, from the given base registers.

    With ``baseline`` a first reading at the first interval's start carries the
    base registers (a meter's first reading on chain is its baseline). Readings
    falling at the same instant (zero-length intervals) merge into one.
    """
    readings: list[MeterReading] = []
    registers = [base_import_wh, base_export_wh]
    seq = first_seq
    if baseline and intervals:
        readings.append(MeterReading(seq, intervals[0].start_ms, *registers))
        seq += 1
    for interval in intervals:
        registers = [registers[0] + interval.import_wh, registers[1] + interval.export_wh]
        if readings and readings[-1].time_ms >= interval.end_ms:
            if readings[-1].time_ms > interval.end_ms:
                raise FormatError(f"interval at {interval.start_ms} ms is out of order")
            readings[-1] = MeterReading(readings[-1].seq, interval.end_ms, *registers)
            continue
        readings.append(MeterReading(seq, interval.end_ms, *registers))
        seq += 1
    return readings


# -- OBIS CSV ------------------------------------------------------------------------------


def parse_time(text: str) -> int:
    """ISO 8601 with a UTC offset (or Z) -> ms since the epoch."""
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise FormatError(f"not an ISO 8601 time: {text!r}") from None
    if moment.tzinfo is None:
        raise FormatError(f"time {text!r} has no UTC offset (ambiguous around clock changes)")
    return (moment - EPOCH) // dt.timedelta(milliseconds=1)


def parse_energy(text: str, unit: str, decimal_comma: bool) -> int:
    """An exact decimal register in Wh or kWh -> Wh (floor of sub-Wh digits)."""
    value = text.strip().replace(" ", "")
    if decimal_comma:
        value = value.replace(".", "").replace(",", ".")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise FormatError(f"not a number: {text!r}") from None
    if not number.is_finite() or number < 0:
        raise FormatError(f"a register must be a non-negative number: {text!r}")
    scaled = number * (1000 if unit == "kwh" else 1)
    return int(scaled.to_integral_value(rounding="ROUND_FLOOR"))


@dataclass(slots=True)
class _Column:
    index: int
    register: int  # 1 import, 2 export
    unit: str | None
    total: bool  # x.8.0, the sum of the tariff registers x.8.1, x.8.2, ...
    unit_column: int | None = None


def _columns(header: list[str]) -> tuple[int, list[_Column]]:
    time_column = next((i for i, name in enumerate(header) if re.search(
        r"time|date|zeit|datum", name, re.IGNORECASE)), 0)
    columns: list[_Column] = []
    for index, name in enumerate(header):
        match = OBIS.search(name)
        if match and index != time_column:
            unit = UNIT.search(name)
            columns.append(_Column(index, int(match.group(1)),
                                   unit.group(1).lower() if unit else None,
                                   match.group(2) == "0"))
        elif re.fullmatch(r"\s*(unit|einheit)\s*", name, re.IGNORECASE):
            if columns and columns[-1].unit_column is None and columns[-1].unit is None:
                columns[-1].unit_column = index  # a unit column right after its register
            else:
                for column in columns:
                    if column.unit is None and column.unit_column is None:
                        column.unit_column = index
    imports = [c for c in columns if c.register == 1]
    if not imports:
        raise FormatError("no import register column (OBIS 1-0:1.8.x) in the header")
    for column in columns:
        if column.unit is None and column.unit_column is None:
            raise FormatError(f"column {header[column.index]!r} states no unit (Wh or kWh) "
                              "in the header or a unit column")
    return time_column, columns


def parse_obis_csv(text: str) -> list[tuple[int, int, int]]:
    """(time ms, import Wh, export Wh) register rows, sorted by time.

    Several tariff registers of one direction (1.8.1 + 1.8.2) are summed; a
    total register (x.8.0) is used alone when present. Registers must never go
    backwards; equal timestamps must carry equal registers.
    """
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter)
            if row and any(cell.strip() for cell in row)]
    if len(rows) < 2:
        raise FormatError("the CSV has no header and data rows")
    time_column, columns = _columns(rows[0])
    chosen = {}
    for register in (1, 2):
        mine = [c for c in columns if c.register == register]
        totals = [c for c in mine if c.total]
        chosen[register] = totals[:1] or mine
    result: dict[int, tuple[int, int]] = {}
    for line, row in enumerate(rows[1:], start=2):
        try:
            time_ms = parse_time(row[time_column])
            values = []
            for register in (1, 2):
                values.append(sum(parse_energy(row[c.index], _unit(row, c), delimiter == ";")
                                  for c in chosen[register]))
        except (FormatError, IndexError) as exc:
            raise FormatError(f"line {line}: {exc}") from None
        if result.get(time_ms, (values[0], values[1])) != (values[0], values[1]):
            raise FormatError(f"line {line}: two different readings at the same time")
        result[time_ms] = (values[0], values[1])
    ordered = sorted((time_ms, imp, exp) for time_ms, (imp, exp) in result.items())
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        if later[1] < earlier[1] or later[2] < earlier[2]:
            raise FormatError(f"a register goes backwards at {later[0]} ms")
    return ordered


def _unit(row: list[str], column: _Column) -> str:
    unit = column.unit or row[column.unit_column or 0].strip().lower()
    if unit not in ("wh", "kwh"):
        raise FormatError(f"unit {unit!r} is neither Wh nor kWh")
    return unit


def load_obis_csv(path: Path) -> list[tuple[int, int, int]]:
    return parse_obis_csv(path.read_text(encoding="utf-8-sig"))


def register_readings(rows: list[tuple[int, int, int]], first_seq: int = 1) -> list[MeterReading]:
    return [MeterReading(first_seq + index, *row) for index, row in enumerate(rows)]
