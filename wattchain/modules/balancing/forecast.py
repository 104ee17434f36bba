"""The published forecasting rules: integer, deterministic, per zone.

* Level: ``level = (alpha x actual + (1000 - alpha) x level) // 1000`` over
  the zone's metered import; the first observation sets it.
* Seasonal offset: when the import of the same interval one season earlier
  (``season_ms``, one day) is on record, ``deviation = actual - that value``
  is smoothed the same way into ``offset``.
* Demand of a future interval t: ``seasonal(t) + offset`` when the value one
  season before t is on record and an offset exists; otherwise ``level``.
  Never below 0.
* Solar of a future interval: active solar capacity (W) of the zone x
  irradiance (W/m2, oracle, persisted from its newest fresh value) / 1000 x
  interval hours, in Wh, rounded down; 0 without a fresh irradiance value.
* Wind of a future interval: active wind capacity x the published generic
  power curve at the wind speed feed (mm/s, hub height): 0 below cut-in
  (3 m/s) and from cut-out (25 m/s); rated power from 12 m/s; in between
  the cube law ``(v^3 - cut_in^3) / (rated^3 - cut_in^3)`` of rated power.
  Then x interval hours, in Wh, rounded down; 0 without a fresh value.
* Firm supply: hydro, biomass and geothermal nameplate x ``firm_per_mille``
  / 1000 x interval hours.
* Accuracy: each interval whose import was forecast and is non-zero is scored
  ``|actual - forecast| x 1000 // actual`` (absolute percentage error in
  per-mille); a zone's MAPE is the sum of its scores // their count.
"""

from __future__ import annotations

from wattchain.modules.balancing.types import (
    MS_PER_HOUR,
    PER_MILLE,
    STANDARD_IRRADIANCE,
    ZoneModel,
)


def smooth(previous: int, actual: int, alpha_per_mille: int) -> int:
    return (alpha_per_mille * actual + (PER_MILLE - alpha_per_mille) * previous) // PER_MILLE


def observe(model: ZoneModel, actual: int, seasonal: int | None, alpha_per_mille: int) -> None:
    """Fold one interval's metered import (and its value a season ago) into ``model``."""
    model.level = actual if model.observed == 0 else smooth(model.level, actual,
                                                            alpha_per_mille)
    model.observed += 1
    if seasonal is not None:
        deviation = actual - seasonal
        model.offset = smooth(model.offset, deviation, alpha_per_mille) if model.has_offset \
            else deviation
        model.has_offset = True


def compute_demand(model: ZoneModel, seasonal: int | None) -> int:
    if seasonal is not None and model.has_offset:
        return max(0, seasonal + model.offset)
    return max(0, model.level)


def compute_solar(capacity_w: int, irradiance: int | None, interval_ms: int) -> int:
    if irradiance is None:
        return 0
    return capacity_w * irradiance * interval_ms // (STANDARD_IRRADIANCE * MS_PER_HOUR)


def compute_ape(actual: int, forecast: int) -> int | None:
    """Absolute percentage error in per-mille; None when ``actual`` is 0 (undefined)."""
    if actual <= 0:
        return None
    return abs(actual - forecast) * PER_MILLE // actual


def score(model: ZoneModel, ape: int | None) -> None:
    if ape is not None:
        model.ape_sum += ape
        model.scored += 1


CUT_IN_MM_S = 3_000
RATED_MM_S = 12_000
CUT_OUT_MM_S = 25_000


def wind_per_mille(speed_mm_s: int) -> int:
    """The generic power curve: output in per-mille of rated power."""
    if speed_mm_s < CUT_IN_MM_S or speed_mm_s >= CUT_OUT_MM_S:
        return 0
    if speed_mm_s >= RATED_MM_S:
        return PER_MILLE
    low = CUT_IN_MM_S ** 3
    return (speed_mm_s ** 3 - low) * PER_MILLE // (RATED_MM_S ** 3 - low)


def compute_wind(capacity_w: int, speed_mm_s: int | None, interval_ms: int) -> int:
    if speed_mm_s is None:
        return 0
    return capacity_w * wind_per_mille(speed_mm_s) * interval_ms // (PER_MILLE * MS_PER_HOUR)


def compute_firm(capacity_w: int, firm_per_mille: int, interval_ms: int) -> int:
    return capacity_w * firm_per_mille * interval_ms // (PER_MILLE * MS_PER_HOUR)
