"""Bills: a pure function of an account's interval energy and its zone's tariffs.

``compute_bill`` is what the chain runs when it issues a bill, what the
``verify_bill`` query runs again, and what ``wattchain bill verify`` runs on
data fetched from a node: the same inputs always give the same bill.

Rules (published, integer): energy is summed per (tariff version, band) over
the intervals of the period, each interval priced by the band in force at its
start; a line's amount is ``Wh * price // 1000`` (floor), feed-in credits are
negative; the standing charge is ``charge * ms under the version // DAY_MS``.
Peer-to-peer purchases and sales join as lines once the trading module exists.
"""

from __future__ import annotations

from typing import Any

from wattchain.modules.metering.tariffs import DAY_MS, Tariff, band_at, tariff_in_force
from wattchain.modules.metering.types import IntervalEnergy

# A line: [kind, tariff effective-from, band name, quantity, unit price, amount]
# kind: "import" (Wh), "export" (Wh, amount <= 0), "standing" (ms).


def compute_bill(start_ms: int, end_ms: int,
                 energy: list[tuple[int, IntervalEnergy]],
                 versions: list[tuple[int, Tariff]]) -> list[Any]:
    """[lines, total micro-units, import Wh, export Wh, estimated intervals].

    ``energy``: the account's interval records in [start, end), ascending.
    ``versions``: the zone's tariff versions, ascending by effective-from.
    Intervals with no tariff in force are not priced.
    """
    sums: dict[tuple[int, int], list[int]] = {}
    import_wh = export_wh = estimated = 0
    for interval, record in energy:
        if not start_ms <= interval < end_ms:
            continue
        import_wh += record.import_wh
        export_wh += record.export_wh
        estimated += record.estimated > 0
        version = tariff_in_force(versions, interval)
        if version is None:
            continue
        band = band_at(version[1], interval)
        totals = sums.setdefault((version[0], band), [0, 0])
        totals[0] += record.import_wh
        totals[1] += record.export_wh
    tariffs = dict(versions)
    lines: list[Any] = []
    for (effective_from, band), (band_import, band_export) in sorted(sums.items()):
        name, import_price, export_price = tariffs[effective_from].bands[band]
        if band_import:
            lines.append(["import", effective_from, name, band_import, import_price,
                          band_import * import_price // 1000])
        if band_export:
            lines.append(["export", effective_from, name, band_export, export_price,
                          -(band_export * export_price // 1000)])
    lines += standing_lines(start_ms, end_ms, versions)
    return [lines, sum(line[5] for line in lines), import_wh, export_wh, estimated]


def standing_lines(start_ms: int, end_ms: int, versions: list[tuple[int, Tariff]]) -> list[Any]:
    lines: list[Any] = []
    for index, (effective_from, tariff) in enumerate(versions):
        until = versions[index + 1][0] if index + 1 < len(versions) else end_ms
        begin, finish = max(start_ms, effective_from), min(end_ms, until)
        if finish > begin and tariff.standing_charge:
            duration = finish - begin
            lines.append(["standing", effective_from, "", duration, tariff.standing_charge,
                          tariff.standing_charge * duration // DAY_MS])
    return lines
