"""Pure interval arithmetic: how the energy between two readings is spread
over the intervals it spans.

A reading gives the registers at an instant. The energy between readings at
``t0`` and ``t1`` belongs to ``[t0, t1)`` and is spread linearly by time with
integer floor division of the cumulative amount, so the shares always add up
to exactly the register difference. A span longer than one interval means
readings are missing: its shares are *estimated* (flagged), and replaced when
a missing reading arrives and splits the span in two.
"""

from __future__ import annotations


def is_estimated(t0_ms: int, t1_ms: int, interval_ms: int) -> bool:
    return t1_ms - t0_ms > interval_ms


def interval_start(time_ms: int, interval_ms: int) -> int:
    return time_ms - time_ms % interval_ms


def split_span(t0_ms: int, t1_ms: int, import_wh: int, export_wh: int, interval_ms: int,
               max_intervals: int) -> list[tuple[int, int, int]]:
    """(interval start ms, import Wh, export Wh) shares of the span ``[t0, t1)``.

    Requires t0 < t1 and non-negative energies. Intervals with no energy are
    left out unless the span is estimated (so the flag reaches them). A span
    over more than ``max_intervals`` intervals goes wholly to its last one.
    """
    first = t0_ms // interval_ms
    last = (t1_ms - 1) // interval_ms
    if last - first + 1 > max_intervals:
        return [(last * interval_ms, import_wh, export_wh)]
    estimated = is_estimated(t0_ms, t1_ms, interval_ms)
    duration = t1_ms - t0_ms
    shares = []
    previous_import = previous_export = 0
    for index in range(first, last + 1):
        end = min(t1_ms, (index + 1) * interval_ms)
        cumulative_import = import_wh * (end - t0_ms) // duration
        cumulative_export = export_wh * (end - t0_ms) // duration
        share = (index * interval_ms, cumulative_import - previous_import,
                 cumulative_export - previous_export)
        previous_import, previous_export = cumulative_import, cumulative_export
        if estimated or share[1] or share[2]:
            shares.append(share)
    return shares


def is_plausible(delta_wh: int, duration_ms: int, max_power_w: int,
                 tolerance_pct: int) -> bool:
    """Energy over a duration at most the power limit plus a tolerance allows.

    Wh * 3.6e6 ms/h <= W * ms * (100 + tolerance) / 100, in integers.
    """
    return delta_wh * 3_600_000 * 100 <= max_power_w * duration_ms * (100 + tolerance_pct)
