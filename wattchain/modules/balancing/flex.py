"""The published flexibility rules: what an asset can offer in one interval,
the merit order that dispatches it, and how state of charge follows meters.

Energies are Wh over one interval of ``interval_ms``; power x time rounds
down. Nothing here reads state: ``dispatch`` feeds it records.

* Up flexibility (the zone is short): storage discharges at most
  ``max_discharge_w`` x hours and at most its charge above the reserve
  (above 0 once an emergency released reserves); a flexible load curtails
  at most its curtailable power x hours.
* Down flexibility (the zone is long): storage charges at most
  ``max_charge_w`` x hours and at most what fills it: ``(energy - soc) x
  1000 // efficiency`` Wh drawn.
* Merit order: offers sorted by (price, asset id) ascending; each takes
  ``min(its capacity, what is still needed)`` until the need is covered.
  The marginal price is the price of the last offer that took energy.
* State of charge after an interval: ``soc + import x efficiency // 1000 -
  export`` from the asset's own meter, clamped to ``0..energy``.
"""

from __future__ import annotations

from dataclasses import dataclass

from wattchain.modules.balancing.types import (
    MS_PER_HOUR,
    PER_MILLE,
    STORAGE,
    FlexAsset,
)


@dataclass(frozen=True)
class Offer:
    """One asset's flexibility in one direction for one interval."""

    asset_id: int
    price: int
    energy_wh: int


def energy_of(power_w: int, interval_ms: int) -> int:
    return power_w * interval_ms // MS_PER_HOUR


def up_capacity(asset: FlexAsset, interval_ms: int, release_reserve: bool) -> int:
    power_limit = energy_of(asset.max_discharge_w, interval_ms)
    if asset.asset_type != STORAGE:
        return power_limit
    floor = 0 if release_reserve else asset.reserve_wh
    return max(0, min(power_limit, asset.soc_wh - floor))


def down_capacity(asset: FlexAsset, interval_ms: int) -> int:
    if asset.asset_type != STORAGE or asset.efficiency_per_mille <= 0:
        return 0
    room = max(0, asset.energy_wh - asset.soc_wh) * PER_MILLE // asset.efficiency_per_mille
    return min(energy_of(asset.max_charge_w, interval_ms), room)


def merit_order(offers: list[Offer], need_wh: int) -> tuple[list[tuple[Offer, int]], int]:
    """Dispatch ``offers`` cheapest first until ``need_wh`` is covered.

    Returns the (offer, energy) pairs that took energy, in dispatch order, and
    the marginal price (-1 when nothing was dispatched).
    """
    taken: list[tuple[Offer, int]] = []
    left = max(0, need_wh)
    marginal = -1
    for offer in sorted(offers, key=lambda o: (o.price, o.asset_id)):
        if left == 0:
            break
        energy = min(offer.energy_wh, left)
        if energy <= 0:
            continue
        taken.append((offer, energy))
        left -= energy
        marginal = offer.price
    return taken, marginal


def follow_meter(asset: FlexAsset, import_wh: int, export_wh: int) -> int:
    """The state of charge after an interval in which the storage meter read
    ``import_wh`` (charged) and ``export_wh`` (discharged)."""
    stored = import_wh * asset.efficiency_per_mille // PER_MILLE
    return max(0, min(asset.energy_wh, asset.soc_wh + stored - export_wh))
