"""What the trading module needs from other modules."""

from __future__ import annotations

from typing import Protocol

from wattchain.vm.state import Overlay, StateReader


class Bank(Protocol):
    """The accounts keeper: escrow, payments and the escrow's balance."""

    def transfer(self, state: Overlay, sender: bytes, recipient: bytes, amount: int) -> None: ...

    def get_balance(self, state: StateReader, address: bytes) -> int: ...


class Registry(Protocol):
    """The registration keeper: what assets may sell, and who operates a zone."""

    def active_capacity(self, state: StateReader, asset_id: int, at_ms: int) -> int: ...

    def is_renewable(self, state: StateReader, asset_id: int, at_ms: int) -> bool: ...

    def assets_of(self, state: StateReader, account: bytes) -> list[int]: ...

    def zone_of(self, state: StateReader, asset_id: int) -> str | None: ...

    def zone_operator(self, state: StateReader, zone_id: str) -> bytes | None: ...


class IntervalEnergy(Protocol):
    @property
    def import_wh(self) -> int: ...

    @property
    def export_wh(self) -> int: ...


class MeteredEnergy(Protocol):
    """Metering's ``energy``: what a seller delivered in an interval."""

    def account_energy(self, state: StateReader, account: bytes,
                       start_ms: int) -> IntervalEnergy: ...
