"""What the metering module needs from other modules.

* ``RoleChecker`` (the accounts keeper): who holds which role.
* ``AssetRegistry`` (the registration keeper): a meter names an asset its
  account owns, in its zone; a zone's operator sets its tariffs.
* ``SettledTrades`` (trading's ``history``, attached after construction):
  the settled peer-to-peer trades bills take into account.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from wattchain.vm.interface import RoleChecker
from wattchain.vm.state import StateReader

__all__ = ["AssetRegistry", "RoleChecker", "SettledTrade", "SettledTrades"]


class AssetRegistry(Protocol):
    """Unknown assets are answered with [] and None."""

    def assets_of(self, state: StateReader, account: bytes) -> list[int]:
        """Ids of every asset the account owns (any status), ascending."""
        ...

    def zone_of(self, state: StateReader, asset_id: int) -> str | None: ...

    def zone_operator(self, state: StateReader, zone_id: str) -> bytes | None: ...


class SettledTrade(Protocol):
    """One account's side of a settled peer-to-peer trade, as bills read it."""

    @property
    def trade_id(self) -> int: ...

    @property
    def interval_start(self) -> int: ...

    @property
    def role(self) -> str:
        """``types.BUYER`` or ``types.SELLER``: the account's side of the trade."""
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
