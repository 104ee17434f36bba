"""Meters, readings, interval energy, and the Protocols metering uses and offers.

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

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Protocol

from wattchain.modules.registration.types import ProducerRegistry, RoleChecker
from wattchain.vm.params import IntegerParams
from wattchain.vm.state import StateReader

__all__ = ["ProducerRegistry", "RoleChecker", "MeteredEnergy", "SettledTrade", "SettledTrades",
           "TradeShare"]

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
class Meter:
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

    def to_list(self) -> list[Any]:
        return [getattr(self, item.name) for item in fields(self)]

    @classmethod
    def from_list(cls, items: list[Any]) -> Meter:
        return cls(*items)


@dataclass(slots=True)
class Reading:
    """A stored reading. ``power_w`` and ``voltage_mv`` are None when not sent."""

    time_ms: int
    import_wh: int
    export_wh: int
    power_w: int | None
    voltage_mv: int | None

    def to_list(self) -> list[Any]:
        return [self.time_ms, self.import_wh, self.export_wh, self.power_w, self.voltage_mv]


@dataclass(slots=True)
class IntervalEnergy:
    """Energy of one interval. ``estimated`` counts the gap spans estimated into it."""

    import_wh: int = 0
    export_wh: int = 0
    estimated: int = 0

    def to_list(self) -> list[int]:
        return [self.import_wh, self.export_wh, self.estimated]

    @property
    def empty(self) -> bool:
        return self.import_wh == 0 and self.export_wh == 0 and self.estimated == 0


class MeteredEnergy(Protocol):
    """What trading (settlement) and balancing may ask of metering.

    Unknown meters, accounts and zones answer with zero energy.
    """

    def meter_energy(self, state: StateReader, meter_id: str, start_ms: int) -> IntervalEnergy:
        """Energy of one meter in the interval starting at ``start_ms``."""
        ...

    def account_energy(self, state: StateReader, account: bytes,
                       start_ms: int) -> IntervalEnergy:
        """Grid exchange of an account (its non-submeters) in one interval."""
        ...

    def zone_energy(self, state: StateReader, zone_id: str, start_ms: int) -> IntervalEnergy:
        """Grid exchange of a zone (every non-submeter in it) in one interval."""
        ...

    def closed_until(self, state: StateReader) -> int:
        """Every interval starting before this ms has ended (late readings may revise it)."""
        ...


BUYER = "buyer"
SELLER = "seller"


class SettledTrade(Protocol):
    """One account's side of a settled peer-to-peer trade, as bills read it."""

    @property
    def trade_id(self) -> int: ...

    @property
    def interval_start(self) -> int: ...

    @property
    def role(self) -> str:
        """``BUYER`` or ``SELLER``: the account's side of the trade."""
        ...

    @property
    def delivered_wh(self) -> int: ...

    @property
    def paid(self) -> int:
        """Buyer to seller, for the delivered energy."""
        ...

    @property
    def fee_paid(self) -> int:
        """Buyer to the grid, for the delivered energy."""
        ...

    @property
    def penalty(self) -> int:
        """Seller to buyer, for energy sold but not delivered."""
        ...


@dataclass(frozen=True, slots=True)
class TradeShare:
    """A concrete ``SettledTrade`` (made from query results by ``wattchain bill verify``)."""

    trade_id: int
    interval_start: int
    role: str
    delivered_wh: int
    paid: int
    fee_paid: int
    penalty: int


class SettledTrades(Protocol):
    """What bills ask of trading (``MeteringModule.attach_trades``)."""

    def settled_for(self, state: StateReader, account: bytes, start_ms: int,
                    end_ms: int) -> Sequence[SettledTrade]:
        """The account's side of every settled trade with interval start in
        [start_ms, end_ms), by ascending trade id (a self-trade: both sides)."""
        ...

    def pending_for(self, state: StateReader, account: bytes, start_ms: int,
                    end_ms: int) -> int:
        """How many of the account's trades in [start_ms, end_ms) are not settled yet."""
        ...
