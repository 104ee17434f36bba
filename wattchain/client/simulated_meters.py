"""Seeded simulated meters: integer-Wh interval profiles of a household, a
rooftop PV system and an EV charger (standard library only).

The energy of an interval is a function of (seed, profile, interval start)
alone, so a profile is deterministic from its seed whatever range is asked
for, and all arithmetic is on integers (portable to the last Wh). Times are
UTC ms; ``utc_offset_minutes`` sets the local clock that drives the shapes.

* household: base load with a morning peak (06-09) and an evening peak
  (17-22), day-to-day and interval noise;
* pv: a daylight bell between a sunrise and a sunset that follow the season,
  scaled by a daily weather factor (clear to overcast) and cloud flicker;
  zero at night; the energy is *export* (generation);
* ev: charging sessions starting 17:00-22:00 on most days, at the charger's
  power until the day's energy need is met.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

HOUR_MS = 3_600_000
DAY_MS = 86_400_000
PROFILES: tuple[str, ...] = ("household", "pv", "ev")


@dataclass(frozen=True, slots=True)
class SimulatedMeter:
    """A meter's profile. ``size_w``: mean household load, PV peak or charger power."""

    profile: str
    seed: int
    size_w: int = 0
    utc_offset_minutes: int = 0

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise ValueError(f"unknown profile {self.profile!r}; profiles are "
                             f"{', '.join(PROFILES)}")

    @property
    def power_w(self) -> int:
        return self.size_w or {"household": 450, "pv": 6_000, "ev": 7_400}[self.profile]

    def rng(self, *parts: int) -> random.Random:
        return random.Random(":".join([self.profile, str(self.seed), *map(str, parts)]))

    def local_ms(self, time_ms: int) -> int:
        return time_ms + self.utc_offset_minutes * 60_000

    def energy_wh(self, start_ms: int, duration_ms: int) -> int:
        """Energy of [start, start + duration), from 1-minute power samples."""
        step = 60_000 if duration_ms >= 60_000 else duration_ms
        watt_ms = 0  # summed exactly, divided once: no rounding per sample
        time_ms = start_ms
        while time_ms < start_ms + duration_ms:
            width = min(step, start_ms + duration_ms - time_ms)
            watt_ms += self.power_at(time_ms) * width
            time_ms += width
        return watt_ms // HOUR_MS

    def power_at(self, time_ms: int) -> int:
        """Mean power in W of the minute starting at ``time_ms``."""
        local = self.local_ms(time_ms)
        day, minute = local // DAY_MS, (local % DAY_MS) // 60_000
        if self.profile == "household":
            return self.household_w(day, minute)
        if self.profile == "pv":
            return self.pv_w(day, minute)
        return self.ev_w(day, minute)

    def household_w(self, day: int, minute: int) -> int:
        mean = self.power_w
        daily = 80 + self.rng(day).randint(0, 40)  # percent: busy and quiet days
        shape = 55  # percent of the mean: fridge, standby, heating pump
        shape += _bump(minute, 7 * 60 + 15, 75, 120)  # breakfast, showers
        shape += _bump(minute, 19 * 60, 150, 230)  # cooking, lights, TV
        shape += _bump(minute, 13 * 60, 90, 40)  # lunch
        noise = self.rng(day, minute).randint(-15, 15)
        return max(mean * (shape + noise) * daily // 10_000, 60)

    def pv_w(self, day: int, minute: int) -> int:
        # season: day length from 8 h (mid-winter) to 16 h (mid-summer), integer triangle
        season_day = (day + 10) % 365  # 0 near the winter solstice
        distance = min(season_day, 365 - season_day)  # 0..182
        half_day = 240 + distance * 240 // 182  # minutes either side of solar noon
        noon = 12 * 60 + 15
        offset = minute - noon
        if abs(offset) >= half_day:
            return 0
        x = half_day - abs(offset)  # 0 at sunrise/sunset .. half_day at noon
        bell = x * x * (3 * half_day - 2 * x) * 1000 // half_day ** 3  # smoothstep, permille
        summer = 60 + distance * 40 // 182  # percent: low winter sun
        weather = self.rng(day).choice((100, 95, 85, 70, 45, 25))
        cloud = 100 - self.rng(day, minute // 5).randint(0, 100 - weather)
        return self.power_w * bell * summer * cloud // 10_000_000

    def ev_w(self, day: int, minute: int) -> int:
        for session_day, shift in ((day, 0), (day - 1, 1440)):  # a session may pass midnight
            arrive, minutes = self.ev_session(session_day)
            if arrive <= minute + shift < arrive + minutes:
                return self.power_w
        return 0

    def ev_session(self, day: int) -> tuple[int, int]:
        """(arrival minute, charging minutes) of a day; (0, 0) on days without charging."""
        session = self.rng(day)
        if session.randint(0, 99) >= 70:  # no charging on about 3 days in 10
            return 0, 0
        arrive = 17 * 60 + session.randint(0, 300)
        need_wh = session.randint(6_000, 30_000)
        return arrive, need_wh * 60 // self.power_w

    def intervals(self, start_ms: int, interval_ms: int,
                  count: int) -> list[tuple[int, int, int, int]]:
        """``count`` consecutive (start ms, duration ms, import Wh, export Wh) from
        ``start_ms``: import for household and ev, export (generation) for pv."""
        values = []
        for index in range(count):
            begin = start_ms + index * interval_ms
            energy = self.energy_wh(begin, interval_ms)
            values.append((begin, interval_ms, 0, energy) if self.profile == "pv"
                          else (begin, interval_ms, energy, 0))
        return values


def _bump(minute: int, centre: int, half_width: int, height: int) -> int:
    """A triangular peak of ``height`` percent at ``centre`` minutes."""
    distance = abs(minute - centre)
    return 0 if distance >= half_width else height * (half_width - distance) // half_width
