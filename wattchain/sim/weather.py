"""The demo's weather: pvlib's bundled typical meteorological year, on the
simulator's slots.

Data: ``pvlib/data/723170TYA.CSV``, the TMY3 file of Greensboro Piedmont
Triad International Airport (North Carolina, USA; 36.1 N, 79.95 W, 273 m;
local standard time UTC-5), read with ``pvlib.iotools.read_tmy3``. It is the
only hourly TMY with irradiance, temperature and wind that pvlib ships, so
the demo community "lives" at that station: its clock is the station's
local standard time (no daylight saving).

A TMY row is the mean of the hour that *ends* at its timestamp, so row i
(0-based) is centred i + 0.5 hours after 1 January 00:00. A slot's value is
the TMY interpolated (linearly, wrapping over new year) at the slot's
midpoint; the calendar year of a slot is ignored (29 February reads as
1 March). Irradiance is zero while the sun is below the horizon.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pvlib

TMY_FILE = Path(pvlib.__file__).parent / "data" / "723170TYA.CSV"
HOURS_PER_YEAR = 8760
TMY_COLUMNS = ("ghi", "dni", "dhi", "temp_air", "wind_speed", "pressure", "albedo")
ANEMOMETER_HEIGHT_M = 10  # TMY3 wind speed is measured at 10 m


@dataclass(frozen=True)
class Site:
    """Where the TMY was measured; ``utc_offset_hours`` is its standard time."""

    name: str
    latitude: float
    longitude: float
    altitude_m: float
    utc_offset_hours: int

    @property
    def tz(self) -> timezone:
        return timezone(timedelta(hours=self.utc_offset_hours))


@lru_cache(maxsize=1)
def load_tmy() -> tuple[Site, dict[str, np.ndarray]]:
    """The bundled TMY: its site and 8760 hourly values per column, in file order."""
    data, meta = pvlib.iotools.read_tmy3(str(TMY_FILE), map_variables=True)
    site = Site(name=str(meta["Name"]).strip('"').title(), latitude=float(meta["latitude"]),
                longitude=float(meta["longitude"]), altitude_m=float(meta["altitude"]),
                utc_offset_hours=int(meta["TZ"]))
    columns = {name: data[name].to_numpy(dtype=float) for name in TMY_COLUMNS}
    if any(len(values) != HOURS_PER_YEAR for values in columns.values()):
        raise RuntimeError(f"{TMY_FILE} does not hold {HOURS_PER_YEAR} hourly rows")
    return site, columns


def compute_tmy_hours(times: pd.DatetimeIndex) -> np.ndarray:
    """Fractional hours since 1 January 00:00 on the TMY's 365-day calendar."""
    day = np.asarray(times.dayofyear, dtype=float) - 1
    day -= np.asarray(times.is_leap_year & (times.month > 2), dtype=float)
    seconds = times.hour * 3600 + times.minute * 60 + times.second
    return np.asarray(day * 24 + np.asarray(seconds, dtype=float) / 3600, dtype=float)


@dataclass(frozen=True)
class SlotWeather:
    """Weather and sun at each slot's midpoint (arrays of one value per slot).

    ``times`` are the midpoints, aware in the site's standard time.
    """

    site: Site
    times: pd.DatetimeIndex
    ghi: np.ndarray  # W/m2
    dni: np.ndarray
    dhi: np.ndarray
    temp_air: np.ndarray  # degC at 2 m
    wind_speed: np.ndarray  # m/s at ANEMOMETER_HEIGHT_M
    pressure: np.ndarray  # Pa
    albedo: np.ndarray
    solar_zenith: np.ndarray  # apparent, degrees
    solar_azimuth: np.ndarray
    dni_extra: np.ndarray


def compute_slot_weather(midpoints: pd.DatetimeIndex) -> SlotWeather:
    """The TMY at naive local midpoints, with the sun's position there."""
    site, tmy = load_tmy()
    centres = np.arange(HOURS_PER_YEAR, dtype=float) + 0.5
    hours = compute_tmy_hours(midpoints)
    values: dict[str, Any] = {name: np.interp(hours, centres, tmy[name], period=HOURS_PER_YEAR)
                              for name in TMY_COLUMNS}
    times = midpoints.tz_localize(site.tz)
    sun = pvlib.solarposition.get_solarposition(times, site.latitude, site.longitude,
                                                altitude=site.altitude_m)
    zenith = sun["apparent_zenith"].to_numpy(dtype=float)
    daylight = zenith < 90
    for name in ("ghi", "dni", "dhi"):
        values[name] = np.where(daylight, np.clip(values[name], 0, None), 0.0)
    values["pressure"] = values["pressure"] * 100  # mbar -> Pa
    return SlotWeather(site=site, times=times, solar_zenith=zenith,
                       solar_azimuth=sun["azimuth"].to_numpy(dtype=float),
                       dni_extra=np.asarray(pvlib.irradiance.get_extra_radiation(times),
                                            dtype=float),
                       **values)
