"""Wind turbines from windpowerlib's bundled turbine library, driven by the
TMY wind speed.

Data: ``windpowerlib/oedb/turbine_data.csv`` and ``power_curves.csv``, the
snapshot of the OpenEnergy Platform turbine library that windpowerlib 0.2.2
ships (``WindTurbine(turbine_type=...)`` reads it; nothing is downloaded).
Community-scale examples: ``"E-53/800"`` (Enercon, 800 kW, 53 m rotor),
``"E-82/2350"`` (Enercon, 2.35 MW, 82 m rotor).

Model: the 10 m TMY wind speed is scaled to hub height with the Hellman
power law, exponent 1/7 (``windpowerlib.wind_speed.hellman``), then read off
the turbine's power curve (``windpowerlib.power_output.power_curve``,
no air-density correction; zero outside the curve, i.e. past cut-out).
Unless given, the hub height is the middle one of those the library lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import windpowerlib
from windpowerlib import WindTurbine, power_output, wind_speed

from wattchain.sim.weather import ANEMOMETER_HEIGHT_M, SlotWeather

TURBINE_DATA_FILE = Path(windpowerlib.__file__).parent / "oedb" / "turbine_data.csv"
HELLMAN_EXPONENT = 1 / 7


@lru_cache(maxsize=1)
def load_turbine_data() -> pd.DataFrame:
    """The library's turbines with a power curve, indexed by turbine type."""
    data = pd.read_csv(TURBINE_DATA_FILE, index_col="turbine_type")
    return data[data["has_power_curve"].astype(bool)]


def list_hub_heights(turbine_type: str) -> list[int]:
    """The hub heights (m) the library lists for a type, ascending."""
    data = load_turbine_data()
    if turbine_type not in data.index:
        raise ValueError(f"unknown turbine type {turbine_type!r}; windpowerlib's library has "
                         f"e.g. {', '.join(list(data.index[:5]))}")
    listed = str(data.loc[turbine_type, "hub_height"]).replace(";", " ").split()
    return sorted({round(float(height)) for height in listed}) or [100]


@dataclass(frozen=True)
class Turbine:
    turbine_type: str
    hub_height_m: int


def choose_turbine(turbine_type: str, hub_height_m: int | None = None) -> Turbine:
    heights = list_hub_heights(turbine_type)
    return Turbine(turbine_type, hub_height_m or heights[len(heights) // 2])


@lru_cache(maxsize=32)
def load_power_curve(turbine: Turbine) -> tuple[np.ndarray, np.ndarray]:
    """(wind speeds m/s, power W) of the turbine's power curve."""
    model = WindTurbine(hub_height=turbine.hub_height_m, turbine_type=turbine.turbine_type)
    curve = model.power_curve
    return (curve["wind_speed"].to_numpy(dtype=float), curve["value"].to_numpy(dtype=float))


def compute_power(turbine: Turbine, weather: SlotWeather) -> np.ndarray:
    """The turbine's electric power in W at each slot midpoint."""
    hub_speed = wind_speed.hellman(pd.Series(weather.wind_speed), ANEMOMETER_HEIGHT_M,
                                   turbine.hub_height_m, hellman_exponent=HELLMAN_EXPONENT)
    speeds, power = load_power_curve(turbine)
    output = power_output.power_curve(hub_speed, pd.Series(speeds), pd.Series(power))
    power_w = np.nan_to_num(np.asarray(output, dtype=float))
    return np.asarray(np.clip(power_w, 0, None), dtype=float)


def describe_turbine(turbine: Turbine) -> dict[str, Any]:
    """Plain specs for an asset's registration (ints and strings only)."""
    row = load_turbine_data().loc[turbine.turbine_type]
    return {
        "manufacturer": str(row["manufacturer"]),
        "model": str(row["name"]),
        "turbine_type": turbine.turbine_type,
        "unit_count": 1,
        "inverter_model": "",
        "nameplate_w": round(float(row["nominal_power"])),
        "hub_height_m": turbine.hub_height_m,
        "rotor_diameter_m": round(float(row["rotor_diameter"])),
        "hub_heights_m": list_hub_heights(turbine.turbine_type),
    }
