"""What the registration module needs from other modules: who holds which
role (the accounts keeper)."""

from __future__ import annotations

from wattchain.vm.interface import RoleChecker

__all__ = ["RoleChecker"]
