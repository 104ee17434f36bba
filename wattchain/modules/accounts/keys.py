"""State key layout of the accounts module (prefix ``acc/``)."""

from __future__ import annotations

PREFIX = b"acc/"
ACCOUNT_PREFIX = b"acc/a/"
SUPPLY_KEY = b"acc/supply"
FEE_POOL_KEY = b"acc/fee_pool"
PROPOSAL_PREFIX = b"acc/p/"


def account_key(address: bytes) -> bytes:
    return ACCOUNT_PREFIX + address


def proposal_key(action_id: bytes) -> bytes:
    return PROPOSAL_PREFIX + action_id
