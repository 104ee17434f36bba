"""The published rules of a round: round index, median, outliers.

* Round index: ``time_ms // round_ms``.
* Median: sort the values; take the element at index ``(n - 1) // 2``. For an
  odd count that is the middle value; for an even count the lower of the two
  middle values, so the result is always one of the submitted integers.
* Outlier: ``|value - median| * 100 > outlier_percent * |median|``. With a
  median of 0 every non-zero value is an outlier.
"""

from __future__ import annotations

from collections.abc import Sequence


def round_of(time_ms: int, round_ms: int) -> int:
    return time_ms // round_ms


def compute_median(values: Sequence[int]) -> int:
    """The lower median of a non-empty sequence of integers."""
    if not values:
        raise ValueError("the median of no values is undefined")
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2]


def is_outlier(value: int, median: int, outlier_percent: int) -> bool:
    return abs(value - median) * 100 > outlier_percent * abs(median)
