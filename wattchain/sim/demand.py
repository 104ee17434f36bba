"""Demand shapes from the BDEW standard load profiles (2025 revision) of
demandlib.

demandlib 0.2.2 ships the 2025 profiles (``demandlib/bdew/bdew_data/
h25.csv``, ``g25.csv``, ...) as ``demandlib.bdew.H25``, ``G25``, ``L25``,
``P25`` and ``S25``; the older H0/G0 (``ElecSlp``) are not used. H25, P25
and S25 carry BDEW's dynamisation (a 4th-degree polynomial over the day of
the year); G25 and L25 are static. Profiles are 15-minute values per month
and day type (workday, Saturday, Sunday/holiday); no public holidays are
set here, so only Sundays use the holiday shape.

Each calendar year's profile is normalised to sum to exactly 1, so a
consumer's energy over a whole calendar year is its annual consumption.
"""

from __future__ import annotations

from functools import lru_cache

import demandlib.bdew as bdew
import numpy as np
import pandas as pd

PROFILES = {
    "H25": bdew.H25,  # households
    "G25": bdew.G25,  # commerce and trade (businesses)
    "L25": bdew.L25,  # farms
    "P25": bdew.P25,  # households with a PV system (net of own generation)
    "S25": bdew.S25,  # households with PV and a battery
}
QUARTER_MINUTES = 15


@lru_cache(maxsize=32)
def load_year_shares(profile: str, year: int) -> np.ndarray:
    """The 15-minute shares of one calendar year's energy (they sum to 1)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown load profile {profile!r}; profiles are "
                         f"{', '.join(sorted(PROFILES))}")
    quarters = pd.date_range(f"{year}-01-01", f"{year + 1}-01-01", freq="15min",
                             inclusive="left")
    values = np.clip(PROFILES[profile](quarters).to_numpy(dtype=float), 0, None)
    shares = np.asarray(values / values.sum(), dtype=float)
    shares.flags.writeable = False
    return shares


def compute_slot_shares(profile: str, starts: pd.DatetimeIndex, slot_minutes: int) -> np.ndarray:
    """Each slot's share of its year's energy, for naive slot starts.

    The profile is a step function over quarter hours; a slot takes the
    integral over [start, start + slot_minutes), whatever its length.
    """
    first_year = int(starts[0].year)
    last_year = int((starts[-1] + pd.Timedelta(minutes=slot_minutes)).year)
    per_minute = np.concatenate([
        np.repeat(load_year_shares(profile, year) / QUARTER_MINUTES, QUARTER_MINUTES)
        for year in range(first_year, last_year + 1)])
    cumulative = np.concatenate([[0.0], np.cumsum(per_minute)])
    origin = pd.Timestamp(f"{first_year}-01-01")
    first_minute = np.asarray((starts - origin) // pd.Timedelta(minutes=1), dtype=np.int64)
    return np.asarray(cumulative[first_minute + slot_minutes] - cumulative[first_minute])
