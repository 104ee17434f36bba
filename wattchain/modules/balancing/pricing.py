"""The published imbalance price rule (per zone and interval).

A zone's DSO sets bounds ``floor <= ceiling`` (``set_imbalance_bounds``).
Without bounds balancing sets no price (rule ``none``) and trading keeps the
price its DSO set by hand. With bounds:

* the wholesale price feed of the zone is fresh (at most
  ``oracle_max_age_ms`` old): ``clamp(wholesale x factor // 1000, floor,
  ceiling)`` (rule ``oracle``; // rounds toward minus infinity);
* the feed is missing or stale: the zone's position decides — ``ceiling``
  when it was short (imbalance > 0, rule ``stale_short``), ``floor`` when it
  was long or balanced (rule ``stale_long``).

The chosen price becomes the zone's imbalance price in trading, which
settlement charges for undelivered energy.
"""

from __future__ import annotations

from wattchain.modules.balancing.types import (
    PER_MILLE,
    RULE_NONE,
    RULE_ORACLE,
    RULE_STALE_LONG,
    RULE_STALE_SHORT,
)


def clamp(value: int, floor: int, ceiling: int) -> int:
    return max(floor, min(ceiling, value))


def compute_price(bounds: tuple[int, int] | None, wholesale: int | None, factor_per_mille: int,
                  imbalance_wh: int) -> tuple[int, str]:
    """(price, rule) for one zone and interval."""
    if bounds is None:
        return 0, RULE_NONE
    floor, ceiling = bounds
    if wholesale is not None:
        return clamp(wholesale * factor_per_mille // PER_MILLE, floor, ceiling), RULE_ORACLE
    if imbalance_wh > 0:
        return ceiling, RULE_STALE_SHORT
    return floor, RULE_STALE_LONG
