"""Capacity factors of the community's firm plants: run-of-river hydro,
biomass CHP and geothermal (numpy only, no library data).

Each is a fraction of nameplate per slot, deterministic from (seed, kind,
unit): ``unit`` tells plants of one kind apart so their noise is independent.

* hydro: river flow follows the season (high in spring snowmelt, low in
  late summer: 0.55 + 0.30 cos(2 pi (day - 105) / 365)), with slow
  day-to-day weather swings (a daily AR(1): 0.9 persistence, 2 % steps,
  about +-5 % around the season);
* biomass: near-flat CHP baseload, 85 % with 2 % slot noise, a few points
  higher in winter when heat demand runs it harder;
* geothermal: flat 93 % with 0.5 % slot noise.

All factors are clipped to [0, 1].
"""

from __future__ import annotations

import numpy as np
import pandas as pd

KINDS = ("hydro", "biomass", "geothermal")


def compute_daily_swing(generator: np.random.Generator, days: int) -> np.ndarray:
    """A mean-reverting AR(1) series, one value per day, starting at 0."""
    steps = generator.normal(0, 0.02, days)
    swing = np.zeros(days)
    for day in range(1, days):
        swing[day] = 0.9 * swing[day - 1] + steps[day]
    return swing


def compute_capacity_factors(kind: str, starts: pd.DatetimeIndex, seed: int,
                             unit: int = 0) -> np.ndarray:
    """Fraction of nameplate per slot, in [0, 1]."""
    if kind not in KINDS:
        raise ValueError(f"unknown plant kind {kind!r}; kinds are {', '.join(KINDS)}")
    generator = np.random.default_rng([seed, KINDS.index(kind), unit])
    day = np.asarray(starts.dayofyear, dtype=float)
    season = np.cos(2 * np.pi * (day - 15) / 365)  # +1 mid-January, -1 mid-July
    if kind == "hydro":
        days = np.asarray((starts.normalize() - starts[0].normalize()).days, dtype=np.int64)
        swing = compute_daily_swing(generator, int(days[-1]) + 1)
        factors = 0.55 + 0.30 * np.cos(2 * np.pi * (day - 105) / 365) + swing[days]
    elif kind == "biomass":
        factors = 0.85 + 0.04 * season + generator.normal(0, 0.02, len(starts))
    else:
        factors = 0.93 + generator.normal(0, 0.005, len(starts))
    return np.asarray(np.clip(factors, 0.0, 1.0), dtype=float)
