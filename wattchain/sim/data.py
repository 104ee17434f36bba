"""Real-data profiles of the demo community, as integers per time slot.

``CommunityData`` precomputes, once, every series the demo needs over a
window of ``slots`` slots of ``slot_minutes`` starting at ``start`` (naive
local time of the weather station), and answers per slot with plain Python
ints: energy in Wh over the slot (>= 0), power in W, weather in the oracle
feeds' units. Slot 0 starts at ``start``; slot indexes wrap modulo ``slots``,
so a demo can loop forever over one window.

Where the numbers come from (only files shipped inside the installed
packages; nothing is downloaded):

* demand: BDEW standard load profiles, 2025 revision (H25 households,
  G25 businesses, also L25, P25, S25), from demandlib 0.2.2 (``demand``);
* weather: pvlib's bundled TMY3 file ``723170TYA.CSV``, Greensboro NC,
  read with ``pvlib.iotools.read_tmy3`` (``weather``);
* PV: CEC module and inverter databases bundled with pvlib and a
  single-diode + Sandia-inverter model chain (``pv``);
* wind: windpowerlib's bundled turbine library and power curves, TMY wind
  scaled to hub height by the Hellman power law (``wind``);
* hydro, biomass CHP, geothermal: seeded deterministic capacity factors
  (``baseload``).

Every output is deterministic given the constructor arguments (and the
library versions pinned by the ``sim`` extra). Floats stay inside this
package: the chain only ever sees the ints returned here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from wattchain.sim import baseload, demand, pv, wind
from wattchain.sim.weather import compute_slot_weather

MINUTES_PER_DAY = 1440


def to_ints(values: np.ndarray) -> list[int]:
    """Rounded to the nearest integer, as Python ints (never numpy scalars)."""
    return [int(value) for value in np.rint(np.nan_to_num(values))]


class CommunityData:
    """The demo community's demand, generation and weather, per slot.

    Construction loads the bundled data (cached per process) and the
    weather of the window: well under a second for a week of 15-minute
    slots. Series for a profile, PV system, turbine or plant are computed
    on first use and kept.
    """

    def __init__(self, start: str = "2025-06-21 05:00", slot_minutes: int = 15,
                 slots: int = 96 * 7, seed: int = 7) -> None:
        if slot_minutes < 1 or MINUTES_PER_DAY % slot_minutes:
            raise ValueError(f"slot_minutes must divide a day, not {slot_minutes}")
        if slots < 1:
            raise ValueError(f"slots must be positive, not {slots}")
        first = pd.Timestamp(start)
        if first.tzinfo is not None or first != first.floor("min"):
            raise ValueError(f"start must be a naive local time on a whole minute: {start!r}")
        self.start = first
        self.slot_minutes = slot_minutes
        self.slots = slots
        self.seed = seed
        self.slot_hours = slot_minutes / 60
        self.starts = pd.date_range(first, periods=slots, freq=f"{slot_minutes}min")
        self.conditions = compute_slot_weather(self.starts + pd.Timedelta(minutes=slot_minutes) / 2)
        self._weather = self._compute_weather_feeds()
        self._demand_shares: dict[str, np.ndarray] = {}
        self._pv_systems: dict[str, pv.PvSystem] = {}
        self._pv_wh: dict[str, list[int]] = {}
        self._wind_wh: dict[wind.Turbine, list[int]] = {}
        self._baseload_factors: dict[tuple[str, int], np.ndarray] = {}

    # -- time ---------------------------------------------------------------

    def slot_index(self, slot: int) -> int:
        """The slot within the window (indexes wrap modulo ``slots``)."""
        return slot % self.slots

    def slot_start(self, slot: int) -> datetime:
        """Naive local start of the slot (of its wrapped index)."""
        start: datetime = self.starts[self.slot_index(slot)].to_pydatetime()
        return start

    def site(self) -> dict[str, Any]:
        """The weather station the community is placed at (micro-degrees)."""
        site = self.conditions.site
        return {"name": site.name, "latitude_micro": round(site.latitude * 1_000_000),
                "longitude_micro": round(site.longitude * 1_000_000),
                "altitude_m": round(site.altitude_m), "utc_offset_hours": site.utc_offset_hours}

    # -- weather ------------------------------------------------------------

    def _compute_weather_feeds(self) -> dict[str, list[int]]:
        weather = self.conditions
        ghi = to_ints(np.clip(weather.ghi, 0, 2_000))
        return {
            "irradiance": ghi,
            "ghi": ghi,
            "dni": to_ints(weather.dni),
            "dhi": to_ints(weather.dhi),
            "temperature": to_ints(weather.temp_air * 1_000),
            "wind_speed": to_ints(np.clip(weather.wind_speed, 0, None) * 1_000),
        }

    def weather(self, slot: int) -> dict[str, int]:
        """The slot's weather, as the oracle feeds take it.

        ``irradiance`` (= ``ghi``), ``dni``, ``dhi``: W/m2; ``temperature``:
        air at 2 m in milli-degC; ``wind_speed``: at 10 m in mm/s.
        """
        index = self.slot_index(slot)
        return {name: values[index] for name, values in self._weather.items()}

    # -- demand -------------------------------------------------------------

    def demand_wh(self, profile: str, annual_kwh: int, slot: int) -> int:
        """Energy a consumer of the BDEW ``profile`` (e.g. ``"H25"``, ``"G25"``)
        using ``annual_kwh`` a year draws in the slot."""
        if profile not in self._demand_shares:
            self._demand_shares[profile] = demand.compute_slot_shares(
                profile, self.starts, self.slot_minutes)
        share = self._demand_shares[profile][self.slot_index(slot)]
        return max(0, int(round(float(share) * annual_kwh * 1_000)))

    # -- solar --------------------------------------------------------------

    def pv_system(self, name: str, modules: int, tilt_deg: float = 30, azimuth_deg: float = 180,
                  module: str | None = None, inverter: str | None = None) -> dict[str, Any]:
        """Register (or replace) a PV system and return its specs.

        ``module``/``inverter`` are CEC names (default: ``pv.DEFAULT_MODULE``
        and an SMA inverter sized to the array); azimuth 180 faces south.
        """
        system = pv.design_system(name, modules, tilt_deg, azimuth_deg, module, inverter)
        ac_w = pv.compute_ac_power(system, self.conditions)
        self._pv_systems[name] = system
        self._pv_wh[name] = to_ints(ac_w * self.slot_hours)
        return self.pv_specs(name)

    def pv_wh(self, name: str, slot: int) -> int:
        """AC energy the registered system ``name`` feeds in during the slot."""
        return self._pv_wh[name][self.slot_index(slot)]

    def pv_specs(self, name: str) -> dict[str, Any]:
        """make/model of the modules and inverters, ``nameplate_w`` (DC at STC),
        ``ac_rating_w``, ``unit_count`` (modules) and the layout."""
        return pv.describe_system(self._pv_systems[name])

    # -- wind ---------------------------------------------------------------

    def _wind_series(self, turbine: wind.Turbine) -> list[int]:
        if turbine not in self._wind_wh:
            power = wind.compute_power(turbine, self.conditions)
            self._wind_wh[turbine] = to_ints(power * self.slot_hours)
        return self._wind_wh[turbine]

    def wind_wh(self, turbine_type: str, slot: int, hub_height_m: int | None = None) -> int:
        """Energy one turbine of windpowerlib's ``turbine_type`` (e.g.
        ``"E-53/800"``) yields in the slot."""
        turbine = wind.choose_turbine(turbine_type, hub_height_m)
        return self._wind_series(turbine)[self.slot_index(slot)]

    def wind_specs(self, turbine_type: str, hub_height_m: int | None = None) -> dict[str, Any]:
        """manufacturer, model, ``nameplate_w``, ``hub_height_m``, ``rotor_diameter_m``."""
        return wind.describe_turbine(wind.choose_turbine(turbine_type, hub_height_m))

    # -- firm plants --------------------------------------------------------

    def _baseload_wh(self, kind: str, capacity_w: int, slot: int, unit: int) -> int:
        key = (kind, unit)
        if key not in self._baseload_factors:
            self._baseload_factors[key] = baseload.compute_capacity_factors(
                kind, self.starts, self.seed, unit)
        factor = float(self._baseload_factors[key][self.slot_index(slot)])
        return max(0, int(round(capacity_w * factor * self.slot_hours)))

    def hydro_wh(self, capacity_w: int, slot: int, unit: int = 0) -> int:
        """Run-of-river energy in the slot; ``unit`` decorrelates plants."""
        return self._baseload_wh("hydro", capacity_w, slot, unit)

    def biomass_wh(self, capacity_w: int, slot: int, unit: int = 0) -> int:
        """Biomass CHP energy in the slot; ``unit`` decorrelates plants."""
        return self._baseload_wh("biomass", capacity_w, slot, unit)

    def geothermal_wh(self, capacity_w: int, slot: int, unit: int = 0) -> int:
        """Geothermal energy in the slot; ``unit`` decorrelates plants."""
        return self._baseload_wh("geothermal", capacity_w, slot, unit)
