"""PV systems built from real modules and inverters of pvlib's bundled CEC
databases, and their AC output from the TMY weather.

Data: ``pvlib/data/sam-library-cec-modules-2019-03-05.csv`` and
``sam-library-cec-inverters-2019-03-05.csv`` (the files behind
``pvlib.pvsystem.retrieve_sam('CECMod')`` and ``('CECInverter')``), read
directly to keep the products' original names. A module or inverter is named
either way: ``"Canadian Solar Inc. CS1U-400MS"`` or pvlib's normalised
``"Canadian_Solar_Inc__CS1U_400MS"``.

Model, per slot (the steps of ``pvlib.modelchain.ModelChain`` written out):

1. plane-of-array irradiance, Hay-Davies transposition
   (``pvlib.irradiance.get_total_irradiance``); the beam is reduced by the
   physical incidence-angle modifier (``pvlib.iam.physical``);
2. cell temperature, SAPM open-rack glass/polymer (``pvlib.temperature``);
3. the module's maximum power point from the CEC single-diode parameters
   (``pvlib.pvsystem.calcparams_cec`` + ``max_power_point``), times the
   module count, less PVWatts' default DC losses (soiling, wiring,
   mismatch... ``pvlib.pvsystem.pvwatts_losses``, about 14 %);
4. the inverters' AC power from the Sandia inverter model
   (``pvlib.inverter.sandia``), clipped at their rating; zero at night.

Sizing: when no inverter is named, the smallest of ``DEFAULT_INVERTERS``
that takes the array at a DC/AC ratio of at most ``MAX_DC_AC_RATIO``, else
enough of the largest. Modules are wired in strings whose maximum-power
voltage is nearest the inverter's nominal DC voltage (the string length
only enters the inverter's efficiency; modules are not required to fill
whole strings).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pvlib

from wattchain.sim.weather import SlotWeather

PVLIB_DATA = Path(pvlib.__file__).parent / "data"
MODULES_FILE = PVLIB_DATA / "sam-library-cec-modules-2019-03-05.csv"
INVERTERS_FILE = PVLIB_DATA / "sam-library-cec-inverters-2019-03-05.csv"

DEFAULT_MODULE = "Canadian Solar Inc. CS1U-400MS"  # 400 W mono c-Si, 81 cells
DEFAULT_INVERTERS = (  # ascending AC rating: residential, then commercial three-phase
    "SMA America: SB3.8-1SP-US-40 [240V]",
    "SMA America: SB6.0-1SP-US-40 [240V]",
    "SMA America: SB7.7-1SP-US-40 [240V]",
    "SMA America: STP24000TL-US-10 [480V]",
    "SMA America: STP 50-US-41 [480V]",
)
MAX_DC_AC_RATIO = 1.3
TEMPERATURE_MODEL = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"][
    "open_rack_glass_polymer"]


def compute_lookup_key(name: str) -> str:
    """Raw and pvlib-normalised product names reduce to the same key."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


@lru_cache(maxsize=2)
def load_catalog(path: Path) -> pd.DataFrame:
    """A CEC database, one row per product, indexed by its original name."""
    catalog = pd.read_csv(path, index_col=0, skiprows=[1, 2])
    catalog["lookup_key"] = [compute_lookup_key(name) for name in catalog.index]
    return catalog


def get_product(path: Path, name: str) -> tuple[str, pd.Series]:
    """The product's original name and parameters. Raises KeyError if absent."""
    catalog = load_catalog(path)
    if name in catalog.index:
        return name, catalog.loc[name]
    matches = catalog.index[catalog["lookup_key"] == compute_lookup_key(name)]
    if len(matches) == 0:
        raise KeyError(f"{name!r} is not in {path.name}")
    return str(matches[0]), catalog.loc[matches[0]]


def split_module_name(name: str) -> tuple[str, str]:
    """(manufacturer, model) of a CEC module name: the model is the last word."""
    manufacturer, _, model = " ".join(name.split()).rpartition(" ")
    return (manufacturer, model) if manufacturer else ("", model)


def split_inverter_name(name: str) -> tuple[str, str]:
    """(manufacturer, model) of a CEC inverter name, ``"Maker: Model [240V]"``."""
    manufacturer, _, model = name.partition(": ")
    return (manufacturer, model) if model else ("", name)


@dataclass(frozen=True)
class PvSystem:
    """A fixed-tilt array of identical modules on identical inverters."""

    name: str
    module_name: str
    inverter_name: str
    modules: int
    inverter_count: int
    modules_per_string: int
    tilt_deg: float
    azimuth_deg: float  # 180 = south

    @property
    def module(self) -> pd.Series:
        return get_product(MODULES_FILE, self.module_name)[1]

    @property
    def inverter(self) -> pd.Series:
        return get_product(INVERTERS_FILE, self.inverter_name)[1]

    @property
    def nameplate_w(self) -> int:
        """DC nameplate: module STC power times module count."""
        return round(float(self.module["STC"]) * self.modules)

    @property
    def ac_rating_w(self) -> int:
        return round(float(self.inverter["Paco"]) * self.inverter_count)


def count_inverters(dc_w: float, inverter: pd.Series) -> int:
    return max(1, math.ceil(dc_w / (float(inverter["Paco"]) * MAX_DC_AC_RATIO)))


def design_system(name: str, modules: int, tilt_deg: float, azimuth_deg: float,
                  module: str | None = None, inverter: str | None = None) -> PvSystem:
    """Pick the products, the inverter count and the string length."""
    if modules < 1:
        raise ValueError(f"a PV system needs at least one module, not {modules}")
    module_name, module_row = get_product(MODULES_FILE, module or DEFAULT_MODULE)
    dc_w = float(module_row["STC"]) * modules
    if inverter is None:
        candidates = [get_product(INVERTERS_FILE, each) for each in DEFAULT_INVERTERS]
        inverter_name, inverter_row = next(
            (pair for pair in candidates if count_inverters(dc_w, pair[1]) == 1), candidates[-1])
    else:
        inverter_name, inverter_row = get_product(INVERTERS_FILE, inverter)
    inverter_count = count_inverters(dc_w, inverter_row)
    module_vmp = float(module_row["V_mp_ref"])
    longest = max(1, math.floor(float(inverter_row["Mppt_high"]) / module_vmp))
    string = min(round(float(inverter_row["Vdco"]) / module_vmp), longest,
                 math.ceil(modules / inverter_count))
    return PvSystem(name=name, module_name=module_name, inverter_name=inverter_name,
                    modules=modules, inverter_count=inverter_count,
                    modules_per_string=max(1, string), tilt_deg=float(tilt_deg),
                    azimuth_deg=float(azimuth_deg))


def compute_effective_irradiance(system: PvSystem,
                                 weather: SlotWeather) -> tuple[np.ndarray, np.ndarray]:
    """(irradiance reaching the cells, plane-of-array global), W/m2."""
    poa = pvlib.irradiance.get_total_irradiance(
        system.tilt_deg, system.azimuth_deg, weather.solar_zenith, weather.solar_azimuth,
        weather.dni, weather.ghi, weather.dhi, dni_extra=weather.dni_extra,
        albedo=weather.albedo, model="haydavies")
    aoi = pvlib.irradiance.aoi(system.tilt_deg, system.azimuth_deg, weather.solar_zenith,
                               weather.solar_azimuth)
    beam = np.nan_to_num(np.asarray(poa["poa_direct"], dtype=float))
    diffuse = np.nan_to_num(np.asarray(poa["poa_diffuse"], dtype=float))
    effective = beam * np.nan_to_num(np.asarray(pvlib.iam.physical(aoi), dtype=float)) + diffuse
    return np.clip(effective, 0, None), np.clip(beam + diffuse, 0, None)


def compute_module_mpp(module: pd.Series, effective: np.ndarray,
                       temp_cell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(power W, voltage V) at one module's maximum power point; 0 in the dark."""
    power = np.zeros_like(effective)
    voltage = np.zeros_like(effective)
    lit = effective > 1.0
    if lit.any():
        params = pvlib.pvsystem.calcparams_cec(
            effective[lit], temp_cell[lit], module["alpha_sc"], module["a_ref"],
            module["I_L_ref"], module["I_o_ref"], module["R_sh_ref"], module["R_s"],
            module["Adjust"])
        point = pvlib.pvsystem.max_power_point(*params, method="newton")
        power[lit] = np.clip(np.nan_to_num(np.asarray(point["p_mp"], dtype=float)), 0, None)
        voltage[lit] = np.clip(np.nan_to_num(np.asarray(point["v_mp"], dtype=float)), 0, None)
    return power, voltage


def compute_ac_power(system: PvSystem, weather: SlotWeather) -> np.ndarray:
    """The system's AC power in W at each slot midpoint (>= 0)."""
    effective, poa_global = compute_effective_irradiance(system, weather)
    temp_cell = np.asarray(pvlib.temperature.sapm_cell(
        poa_global, weather.temp_air, weather.wind_speed, **TEMPERATURE_MODEL), dtype=float)
    module_power, module_voltage = compute_module_mpp(system.module, effective, temp_cell)
    dc_loss = float(pvlib.pvsystem.pvwatts_losses()) / 100
    dc_per_inverter = module_power * system.modules * (1 - dc_loss) / system.inverter_count
    inverter: dict[str, Any] = system.inverter.to_dict()
    ac_per_inverter = np.asarray(pvlib.inverter.sandia(
        module_voltage * system.modules_per_string, dc_per_inverter, inverter), dtype=float)
    ac = np.where(dc_per_inverter > 0, ac_per_inverter, 0.0)
    return np.asarray(np.clip(np.nan_to_num(ac), 0, None) * system.inverter_count, dtype=float)


def describe_system(system: PvSystem) -> dict[str, Any]:
    """Plain specs for an asset's registration (ints and strings only)."""
    module_manufacturer, module_model = split_module_name(system.module_name)
    inverter_manufacturer, inverter_model = split_inverter_name(system.inverter_name)
    return {
        "technology": str(system.module["Technology"]),
        "manufacturer": module_manufacturer,
        "model": module_model,
        "module_name": system.module_name,
        "module_stc_w": round(float(system.module["STC"])),
        "unit_count": system.modules,
        "nameplate_w": system.nameplate_w,
        "inverter_manufacturer": inverter_manufacturer,
        "inverter_model": inverter_model,
        "inverter_name": system.inverter_name,
        "inverter_count": system.inverter_count,
        "inverter_ac_w": round(float(system.inverter["Paco"])),
        "ac_rating_w": system.ac_rating_w,
        "modules_per_string": system.modules_per_string,
        "tilt_deg": round(system.tilt_deg),
        "azimuth_deg": round(system.azimuth_deg),
    }
