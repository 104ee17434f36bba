"""Time-of-use tariffs: record, validation and the band in force at a time.

A tariff version of a zone::

    [setter, utc_offset_minutes, weekend_days, holidays, bands, schedule,
     standing_charge_micro_per_day]

* ``bands``: up to 8 ``[name, import_price, export_price]`` (micro-units per kWh;
  export is the feed-in price).
* ``schedule``: three lists of 24 band indices, for weekdays, weekend days and
  holidays; hour h of the local day (UTC + offset) is in band ``schedule[d][h]``.
* ``weekend_days``: local weekdays (Monday 0 .. Sunday 6) that are weekend.
* ``holidays``: local dates as days since 1970-01-01.

Versions are keyed by their effective-from time; the version in force at t is
the one with the latest effective-from <= t. All arithmetic is on integer ms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wattchain.modules.metering.errors import InvalidTariff
from wattchain.vm.fields import arg_int

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
DAY_TYPES: tuple[str, ...] = ("weekday", "weekend", "holiday")
MAX_BANDS = 8
MAX_HOLIDAYS = 366
MAX_PRICE = 10**12
EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)


@dataclass(slots=True)
class Tariff:
    setter: bytes
    utc_offset_minutes: int
    weekend_days: list[int]
    holidays: list[int]
    bands: list[list[Any]]  # [name, import price, export price]
    schedule: list[list[int]]  # 3 x 24 band indices
    standing_charge: int  # micro-units per day

    def to_list(self) -> list[Any]:
        return [self.setter, self.utc_offset_minutes, self.weekend_days, self.holidays,
                self.bands, self.schedule, self.standing_charge]

    @classmethod
    def from_list(cls, items: list[Any]) -> Tariff:
        return cls(*items)


def _int(value: Any, name: str, low: int, high: int) -> int:
    return arg_int(value, name, low, high, InvalidTariff)


def _int_list(value: Any, name: str, low: int, high: int, max_len: int) -> list[int]:
    if type(value) is not list or len(value) > max_len:
        raise InvalidTariff(f"{name} must be a list of at most {max_len} integers")
    items = [_int(item, name, low, high) for item in value]
    if items != sorted(set(items)):
        raise InvalidTariff(f"{name} must be ascending without repeats")
    return items


def check_tariff(setter: bytes, offset: Any, weekend: Any, holidays: Any, bands: Any,
                 schedule: Any, standing: Any) -> Tariff:
    """A valid tariff, or InvalidTariff naming what is wrong."""
    if type(bands) is not list or not 0 < len(bands) <= MAX_BANDS:
        raise InvalidTariff(f"bands must be a list of 1..{MAX_BANDS} [name, import price, "
                            "export price]")
    names = set()
    for band in bands:
        if (type(band) is not list or len(band) != 3 or type(band[0]) is not str
                or not 0 < len(band[0]) <= 32):
            raise InvalidTariff("each band is [name (1..32 chars), import price, export price]")
        _int(band[1], "import price", 0, MAX_PRICE)
        _int(band[2], "export price", 0, MAX_PRICE)
        names.add(band[0])
    if len(names) != len(bands):
        raise InvalidTariff("band names must be distinct")
    if type(schedule) is not list or len(schedule) != len(DAY_TYPES) or any(
            type(day) is not list or len(day) != 24 for day in schedule):
        raise InvalidTariff("schedule must be 3 lists (weekday, weekend, holiday) of 24 "
                            "band indices")
    for day in schedule:
        for index in day:
            _int(index, "schedule band index", 0, len(bands) - 1)
    return Tariff(setter, _int(offset, "UTC offset (minutes)", -840, 840),
                  _int_list(weekend, "weekend days", 0, 6, 7),
                  _int_list(holidays, "holidays", 0, 1 << 31, MAX_HOLIDAYS), bands, schedule,
                  _int(standing, "standing charge", 0, MAX_PRICE))


def day_type(tariff: Tariff, time_ms: int) -> str:
    local_day = (time_ms + tariff.utc_offset_minutes * 60_000) // DAY_MS
    if local_day in tariff.holidays:
        return "holiday"
    if (local_day + EPOCH_WEEKDAY) % 7 in tariff.weekend_days:
        return "weekend"
    return "weekday"


def band_at(tariff: Tariff, time_ms: int) -> int:
    """Index of the band in force at ``time_ms`` (UTC ms)."""
    local = time_ms + tariff.utc_offset_minutes * 60_000
    hour = (local % DAY_MS) // HOUR_MS
    return tariff.schedule[DAY_TYPES.index(day_type(tariff, time_ms))][hour]


def tariff_in_force(versions: list[tuple[int, Tariff]], time_ms: int) -> tuple[int, Tariff] | None:
    """The version (effective-from, tariff) in force at ``time_ms``; versions ascending."""
    found = None
    for effective_from, tariff in versions:
        if effective_from > time_ms:
            break
        found = (effective_from, tariff)
    return found
