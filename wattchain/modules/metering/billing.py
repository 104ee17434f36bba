"""Bills: a pure function of an account's interval energy, its zone's tariffs
and its settled peer-to-peer trades.

``compute_bill`` is what the chain runs when it issues a bill, what the
``verify_bill`` query runs again, and what ``wattchain bill verify`` runs on
data fetched from a node: the same inputs always give the same bill.

Rules (published, integer): energy is summed per (tariff version, band) over
the intervals of the period, each interval priced by the band in force at its
start; a line's amount is ``Wh * price // 1000`` (floor), feed-in credits are
negative; the standing charge is ``charge * ms under the version // DAY_MS``.

Peer to peer (published): energy bought peer to peer and delivered in an
interval is not billed again at the retail import price, so it is subtracted
from the account's import in that interval (never below 0) before pricing by
band; energy sold peer to peer and delivered is likewise subtracted from the
export, so it is not credited again at the feed-in price. Line
``p2p_purchases`` is the sum of ``paid + fee_paid`` of the trades the account
bought, ``p2p_sales`` minus the sum of ``paid`` of those it sold, and
``p2p_penalties`` the shortfall penalties it paid as seller less those it
received as buyer; the total includes them. Only trades settled when the bill
is issued count: the bill records their ids (``p2p_trade_ids``, recomputation
uses exactly those) and how many trades of the period were still pending
(``p2p_pending``); trades settled later are on no bill.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wattchain.modules.metering.expected import SettledTrade
from wattchain.modules.metering.tariffs import DAY_MS, Tariff, band_at, tariff_in_force
from wattchain.modules.metering.types import BUYER, IntervalEnergy

# A line: [kind, tariff effective-from, band name, quantity, unit price, amount]
# kind: "import" (Wh), "export" (Wh, amount <= 0), "standing" (ms), and with trades
# "p2p_purchases" and "p2p_sales" (delivered Wh; unit price 0: trades differ in price)
# and "p2p_penalties" (quantity: trades with a penalty).


def compute_bill(start_ms: int, end_ms: int,
                 energy: list[tuple[int, IntervalEnergy]],
                 versions: list[tuple[int, Tariff]],
                 trades: Sequence[SettledTrade] = ()) -> list[Any]:
    """[lines, total micro-units, import Wh, export Wh, estimated intervals].

    ``energy``: the account's interval records in [start, end), ascending.
    ``versions``: the zone's tariff versions, ascending by effective-from.
    ``trades``: the account's side of the settled trades the bill covers.
    Intervals with no tariff in force are not priced. Import and export Wh are
    the metered ones, before peer-to-peer energy is taken off.
    """
    trades = [t for t in trades if start_ms <= t.interval_start < end_ms]
    bought, sold = delivered_by_interval(trades)
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
        totals[0] += max(0, record.import_wh - bought.get(interval, 0))
        totals[1] += max(0, record.export_wh - sold.get(interval, 0))
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
    lines += p2p_lines(trades)
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


def delivered_by_interval(trades: Sequence[SettledTrade]) -> tuple[dict[int, int],
                                                                   dict[int, int]]:
    """(Wh bought, Wh sold) and delivered, per interval start."""
    bought: dict[int, int] = {}
    sold: dict[int, int] = {}
    for trade in trades:
        side = bought if trade.role == BUYER else sold
        side[trade.interval_start] = side.get(trade.interval_start, 0) + trade.delivered_wh
    return bought, sold


def p2p_lines(trades: Sequence[SettledTrade]) -> list[Any]:
    purchases = [t for t in trades if t.role == BUYER]
    sales = [t for t in trades if t.role != BUYER]
    lines: list[Any] = []
    if purchases:
        lines.append(["p2p_purchases", 0, "", sum(t.delivered_wh for t in purchases), 0,
                      sum(t.paid + t.fee_paid for t in purchases)])
    if sales:
        lines.append(["p2p_sales", 0, "", sum(t.delivered_wh for t in sales), 0,
                      -sum(t.paid for t in sales)])
    penalised = [t for t in trades if t.penalty]
    if penalised:
        # paid as seller: a charge; received as buyer: a credit
        lines.append(["p2p_penalties", 0, "", len(penalised), 0,
                      sum(t.penalty for t in sales) - sum(t.penalty for t in purchases)])
    return lines
