"""What the chain module needs from other modules."""

from __future__ import annotations

from typing import Any, Protocol

from wattchain.vm.state import Overlay, StateReader


class Governance(Protocol):
    """Admin-quorum approval: the accounts keeper."""

    def is_admin(self, state: StateReader, address: bytes) -> bool: ...

    def approve_action(
        self, state: Overlay, approver: bytes, action: list[Any], quorum: int
    ) -> tuple[bytes, int]:
        """Record an approval; return (action id, approvals so far)."""
        ...
