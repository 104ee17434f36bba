"""Accounts and roles."""

from __future__ import annotations

from dataclasses import dataclass

# Bit positions are consensus-critical: append new roles, never reorder.
ROLES: tuple[str, ...] = (
    "admin",
    "validator",
    "dso",
    "certifier",
    "meter_operator",
    "oracle",
    "issuer",
    "producer",
    "consumer",
)
ROLE_BITS: dict[str, int] = {name: 1 << index for index, name in enumerate(ROLES)}
MAX_SUPPLY = (1 << 63) - 1


def role_names(mask: int) -> list[str]:
    return [name for name in ROLES if mask & ROLE_BITS[name]]


def role_mask(names: list[str]) -> int:
    mask = 0
    for name in names:
        mask |= ROLE_BITS[name]
    return mask


@dataclass(slots=True)
class Account:
    balance: int = 0
    nonce: int = 0
    roles: int = 0  # bit mask over ROLES

    def has_role(self, role: str) -> bool:
        return bool(self.roles & ROLE_BITS[role])

    def to_list(self) -> list[int]:
        return [self.balance, self.nonce, self.roles]
