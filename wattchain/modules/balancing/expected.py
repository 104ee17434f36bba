"""What the balancing module needs from other modules: metered energy
(metering), zones and assets (registration), feed values (oracle), the
market's schedule and restrictions (trading) and the bank (accounts)."""

from __future__ import annotations

from typing import Protocol

from wattchain.vm.state import Overlay, StateReader


class ZoneEnergy(Protocol):
    @property
    def import_wh(self) -> int: ...

    @property
    def export_wh(self) -> int: ...


class MeteredEnergy(Protocol):
    """Metering's ``energy``."""

    def zone_energy(self, state: StateReader, zone_id: str, start_ms: int) -> ZoneEnergy: ...

    def meter_energy(self, state: StateReader, meter_id: str, start_ms: int) -> ZoneEnergy: ...


class GridAsset(Protocol):
    """What balancing reads of a registered asset."""

    @property
    def owner(self) -> bytes: ...

    @property
    def asset_type(self) -> str: ...

    @property
    def capacity_w(self) -> int: ...

    @property
    def energy_wh(self) -> int: ...

    @property
    def zone_id(self) -> str: ...

    @property
    def meter_id(self) -> str: ...


class GridRegistry(Protocol):
    """Registration's keeper: zones, their operators, assets and connected capacity."""

    def zone_ids(self, state: StateReader) -> list[str]: ...

    def zone_operator(self, state: StateReader, zone_id: str) -> bytes | None: ...

    def zone_capacity(self, state: StateReader, zone_id: str, asset_type: str,
                      at_ms: int) -> int: ...

    def zone_hosting(self, state: StateReader, zone_id: str) -> tuple[int, int] | None:
        """(hosting capacity W, connected W) of a zone; None when unknown."""
        ...

    def zone_asset_ids(self, state: StateReader, zone_id: str) -> list[int]: ...

    def get_asset(self, state: StateReader, asset_id: int) -> GridAsset | None: ...

    def active_capacity(self, state: StateReader, asset_id: int, at_ms: int) -> int: ...


class OracleFeeds(Protocol):
    def latest(self, state: StateReader, feed: str, zone: str, now_ms: int,
               max_age_ms: int) -> int | None: ...


class MarketSchedule(Protocol):
    """Trading's keeper: the cleared schedule, the imbalance price settlement
    uses, the market restriction of a zone in an emergency, and the links
    between zones."""

    def scheduled_wh(self, state: StateReader, zone: str, interval_start: int) -> int: ...

    def set_imbalance_price(self, state: Overlay, zone: str, price: int) -> None: ...

    def set_interval_imbalance_price(self, state: Overlay, zone: str, interval_start: int,
                                     price: int) -> None: ...

    def delete_interval_imbalance_price(self, state: Overlay, zone: str,
                                        interval_start: int) -> None: ...

    def set_restriction(self, state: Overlay, zone: str, mode: int, cap: int) -> None: ...

    def links(self, state: StateReader) -> list[tuple[tuple[str, str], tuple[int, int]]]: ...


class Bank(Protocol):
    """The accounts module's bank: dispatched flexibility is paid with it."""

    def transfer(self, state: Overlay, sender: bytes, recipient: bytes, amount: int) -> None: ...

    def get_balance(self, state: StateReader, address: bytes) -> int: ...
