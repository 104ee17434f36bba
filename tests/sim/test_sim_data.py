"""The demo community's real-data layer: integers, determinism, physics
bands. Skipped unless the ``sim`` extra (demandlib, pvlib, windpowerlib) is
installed."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytest.importorskip("demandlib")
pytest.importorskip("pvlib")
pytest.importorskip("windpowerlib")

from wattchain.sim.data import CommunityData  # noqa: E402

PACKAGE = Path(__file__).resolve().parents[2] / "wattchain"
SIM_LIBRARIES = ("demandlib", "pvlib", "windpowerlib", "pandas", "numpy", "scipy")
WEEK = 96 * 7
SLOT_HOURS_15 = 0.25


def build(seed: int = 7) -> CommunityData:
    data = CommunityData(seed=seed)  # 2025-06-21 05:00, 15-minute slots, one week
    data.pv_system("roof", 14, tilt_deg=30, azimuth_deg=180)
    data.pv_system("school", 80, tilt_deg=20, azimuth_deg=200,
                   module="LG_Electronics_Inc__LG370N2W_B3",
                   inverter="SMA America: STP24000TL-US-10 [480V]")
    return data


@pytest.fixture(scope="module")
def community() -> CommunityData:
    return build()


def every_output(data: CommunityData, slot: int) -> list[int]:
    return [
        *data.weather(slot).values(),
        data.demand_wh("H25", 3_500, slot), data.demand_wh("G25", 40_000, slot),
        data.pv_wh("roof", slot), data.pv_wh("school", slot),
        data.wind_wh("E-53/800", slot), data.wind_wh("E-82/2350", slot),
        data.hydro_wh(250_000, slot), data.biomass_wh(500_000, slot),
        data.geothermal_wh(1_000_000, slot), data.hydro_wh(250_000, slot, unit=1),
    ]


def slot_at(data: CommunityData, day: int, hour: int) -> int:
    """The slot starting ``day`` days after the start's date, at ``hour``:00."""
    minutes = (day * 24 + hour) * 60 - (data.start.hour * 60 + data.start.minute)
    return minutes // data.slot_minutes


def test_two_instances_give_the_same_numbers(community: CommunityData) -> None:
    other = build()
    for slot in range(WEEK):
        assert every_output(community, slot) == every_output(other, slot)
    assert other.pv_specs("school") == community.pv_specs("school")


def test_the_seed_moves_only_the_noise(community: CommunityData) -> None:
    other = build(seed=8)
    slots = range(0, WEEK, 7)
    assert [other.weather(slot) for slot in slots] == [community.weather(slot) for slot in slots]
    assert [other.pv_wh("roof", slot) for slot in slots] == [
        community.pv_wh("roof", slot) for slot in slots]
    assert [other.biomass_wh(500_000, slot) for slot in slots] != [
        community.biomass_wh(500_000, slot) for slot in slots]


def test_every_output_is_a_plain_int(community: CommunityData) -> None:
    for slot in range(0, WEEK, 5):
        for value in every_output(community, slot):
            assert type(value) is int
    for specs in (community.pv_specs("roof"), community.wind_specs("E-82/2350")):
        assert all(type(value) in (int, str, list) for value in specs.values())
        assert type(specs["nameplate_w"]) is int


def test_slot_indexes_wrap_around_the_window(community: CommunityData) -> None:
    for slot in (0, 17, WEEK - 1):
        assert every_output(community, slot + WEEK) == every_output(community, slot)
        assert community.slot_start(slot - WEEK) == community.slot_start(slot)


def test_pv_is_dark_at_night_and_producing_at_noon(community: CommunityData) -> None:
    for day in range(7):
        assert community.pv_wh("roof", slot_at(community, day, 0)) == 0
        assert community.pv_wh("roof", slot_at(community, day, 23)) == 0
        assert community.pv_wh("roof", slot_at(community, day, 12)) > 0
        assert community.weather(slot_at(community, day, 1))["irradiance"] == 0


def test_pv_daily_energy_is_nameplate_times_plausible_sun_hours(
        community: CommunityData) -> None:
    for name in ("roof", "school"):
        specs = community.pv_specs(name)
        first = slot_at(community, 1, 0)  # whole days from the first midnight
        daily_wh = [sum(community.pv_wh(name, slot) for slot in range(start, start + 96))
                    for start in range(first, first + 5 * 96, 96)]
        sun_hours = [energy / specs["nameplate_w"] for energy in daily_wh]
        assert all(1.5 < hours < 7.5 for hours in sun_hours), sun_hours
        assert 3.0 < sum(sun_hours) / len(sun_hours) < 6.5
        peak = max(community.pv_wh(name, slot) for slot in range(WEEK))
        assert peak <= specs["ac_rating_w"] * SLOT_HOURS_15


def test_pv_specs_name_real_products(community: CommunityData) -> None:
    roof = community.pv_specs("roof")
    assert (roof["manufacturer"], roof["model"]) == ("Canadian Solar Inc.", "CS1U-400MS")
    assert roof["unit_count"] == 14 and roof["nameplate_w"] == 5_606
    assert roof["inverter_manufacturer"] == "SMA America" and roof["inverter_count"] == 1
    assert roof["nameplate_w"] <= 1.3 * roof["ac_rating_w"]
    school = community.pv_specs("school")
    assert school["module_name"] == "LG Electronics Inc. LG370N2W-B3"
    assert school["inverter_model"] == "STP24000TL-US-10 [480V]"
    assert school["inverter_count"] == 1 and school["ac_rating_w"] == 24_060
    with pytest.raises(KeyError):
        community.pv_system("bad", 4, module="No Such Module")


def test_a_big_array_gets_several_inverters(community: CommunityData) -> None:
    specs = community.pv_system("farm", 400, tilt_deg=25)
    assert specs["inverter_count"] >= 2
    assert specs["nameplate_w"] <= 1.3 * specs["ac_rating_w"]


def test_household_demand_adds_up_to_its_annual_consumption() -> None:
    year = CommunityData(start="2025-01-01 00:00", slot_minutes=60, slots=8_760)
    for profile, annual_kwh in (("H25", 3_500), ("G25", 40_000)):
        total_wh = sum(year.demand_wh(profile, annual_kwh, slot) for slot in range(8_760))
        assert total_wh == pytest.approx(annual_kwh * 1_000, rel=0.01)


def test_weekly_demand_is_plausible(community: CommunityData) -> None:
    week_kwh = sum(community.demand_wh("H25", 3_500, slot) for slot in range(WEEK)) / 1_000
    assert 3_500 / 52 * 0.6 < week_kwh < 3_500 / 52 * 1.4
    evening = community.demand_wh("H25", 3_500, slot_at(community, 1, 19))
    night = community.demand_wh("H25", 3_500, slot_at(community, 1, 3))
    assert evening > night
    with pytest.raises(ValueError):
        community.demand_wh("H0", 3_500, 0)


def test_wind_never_exceeds_nameplate(community: CommunityData) -> None:
    for turbine_type in ("E-53/800", "E-82/2350"):
        specs = community.wind_specs(turbine_type)
        ceiling = specs["nameplate_w"] * SLOT_HOURS_15
        energy = [community.wind_wh(turbine_type, slot) for slot in range(WEEK)]
        assert all(0 <= value <= ceiling for value in energy)
        assert sum(energy) > 0
    assert community.wind_specs("E-82/2350")["rotor_diameter_m"] == 82
    taller = community.wind_specs("E-82/2350", hub_height_m=108)["hub_height_m"]
    assert taller == 108
    with pytest.raises(ValueError):
        community.wind_wh("No-Such/1", 0)


def test_firm_plants_run_near_their_capacity_factors(community: CommunityData) -> None:
    capacity_w = 1_000_000
    ceiling = capacity_w * SLOT_HOURS_15
    for method, low, high in ((community.hydro_wh, 0.3, 0.95),
                              (community.biomass_wh, 0.75, 0.95),
                              (community.geothermal_wh, 0.9, 0.96)):
        energy = [method(capacity_w, slot) for slot in range(WEEK)]
        assert all(0 <= value <= ceiling for value in energy)
        assert low < sum(energy) / (ceiling * WEEK) < high
    assert [community.biomass_wh(capacity_w, slot, unit=1) for slot in range(96)] != [
        community.biomass_wh(capacity_w, slot) for slot in range(96)]


def test_weather_fits_the_oracle_feeds(community: CommunityData) -> None:
    for slot in range(WEEK):
        weather = community.weather(slot)
        assert 0 <= weather["irradiance"] <= 2_000
        assert weather["irradiance"] == weather["ghi"]
        assert 0 <= weather["wind_speed"] <= 120_000
        assert 5_000 < weather["temperature"] < 45_000  # June in North Carolina, milli-degC
    assert max(community.weather(slot)["irradiance"] for slot in range(WEEK)) > 600


def test_other_slot_lengths() -> None:
    hourly = CommunityData(slot_minutes=60, slots=24)
    hourly.pv_system("roof", 14)
    day_wh = sum(hourly.pv_wh("roof", slot) for slot in range(24))
    assert 10_000 < day_wh < 40_000
    with pytest.raises(ValueError):
        CommunityData(slot_minutes=7)


def test_only_the_simulator_imports_the_data_libraries() -> None:
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.is_relative_to(PACKAGE / "sim"):
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in SIM_LIBRARIES, f"{path} imports {name}"
