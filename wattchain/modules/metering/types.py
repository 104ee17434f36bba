"""Meters, readings and interval energy.

Every record encodes to a canonical msgpack array (``to_list``). Energy is in
Wh, power in W, voltage in mV, times in ms of UTC, money in micro-units.

Sign conventions: a meter's *import* register counts energy flowing from the
grid into the premises (consumption, charging); its *export* register counts
energy flowing out (feed-in, generation on a production meter, discharge).
A *submeter* sits behind another meter of the same account: it appears in
per-meter data and reports (self-consumption) but not in the account's or the
zone's grid exchange, which bills and settlement use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from wattchain.vm.params import IntegerParams
from wattchain.vm.records import Record

METER_TYPES: tuple[str, ...] = ("consumption", "net", "production", "storage", "ev_charger")
# Types whose meter must name the asset it measures.
ASSET_TYPES_NEEDED = frozenset({"production", "storage"})

REGISTERED = "registered"
ACTIVE = "active"
DECOMMISSIONED = "decommissioned"
METER_STATUSES: tuple[str, ...] = (REGISTERED, ACTIVE, DECOMMISSIONED)

READING_DOMAIN = b"wattchain/reading/v1"


@dataclass(slots=True)
class MeteringParams(IntegerParams):
    """Protocol limits, set in genesis (section ``params``)."""

    module: ClassVar[str] = "metering"

    future_tolerance_ms: int = 60_000  # how far a reading may be ahead of block time
    rate_tolerance_pct: int = 10  # allowed excess over the meter's power limit
    max_readings_per_tx: int = 200
    max_gap_intervals: int = 2_880  # longer gaps go wholly to the last interval


@dataclass(slots=True)
class Meter(Record):
    meter_type: str
    public_key: bytes  # compressed secp256k1 key of the meter itself
    operator: bytes  # the meter_operator that registered it
    account: bytes  # the customer the meter is bound to
    zone_id: str
    asset_id: int  # 0: measures no registered asset
    max_power_w: int  # capacity or fuse limit; readings faster than this are implausible
    submeter: bool
    status: str
    registered_height: int
    last_seq: int = 0  # 0: no reading yet (sequences start at 1)
    last_time_ms: int = 0
    import_wh: int = 0
    export_wh: int = 0
    first_import_wh: int = 0  # registers of the first reading: the baseline
    first_export_wh: int = 0
    reading_count: int = 0

    @classmethod
    def from_list(cls, items: list[Any]) -> Meter:
        return cls(*items)


@dataclass(slots=True)
class Reading(Record):
    """A stored reading. ``power_w`` and ``voltage_mv`` are None when not sent."""

    time_ms: int
    import_wh: int
    export_wh: int
    power_w: int | None
    voltage_mv: int | None


@dataclass(slots=True)
class IntervalEnergy(Record):
    """Energy of one interval. ``estimated`` counts the gap spans estimated into it."""

    import_wh: int = 0
    export_wh: int = 0
    estimated: int = 0

    @property
    def empty(self) -> bool:
        return self.import_wh == 0 and self.export_wh == 0 and self.estimated == 0


BUYER = "buyer"
SELLER = "seller"


@dataclass(frozen=True, slots=True)
class TradeShare:
    """A concrete ``expected.SettledTrade`` (made from query results by
    ``wattchain bill verify``)."""

    trade_id: int
    interval_start: int
    role: str
    delivered_wh: int
    paid: int
    fee_paid: int
    penalty: int
