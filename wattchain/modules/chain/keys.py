"""State key layout of the chain module (prefix ``chain/``)."""

from __future__ import annotations

import struct

from wattchain.vm.params import PARAMS_KEY

VALIDATORS_KEY = b"chain/validators"  # the set that decides the next height
VALIDATORS_SINCE_KEY = b"chain/validators_since"  # first height the current set decides
LAST_VALIDATORS_KEY = b"chain/last_validators"  # the set it replaced
PENDING_PREFIX = b"chain/pending/"  # validator updates by the height they take effect
EVIDENCE_PREFIX = b"chain/evidence/"
EFFECTIVE_DELAY = 2  # an update in block H applies to the set deciding H + 2

__all__ = ["PARAMS_KEY", "VALIDATORS_KEY", "PENDING_PREFIX", "EVIDENCE_PREFIX",
           "pending_key", "evidence_key", "EFFECTIVE_DELAY"]


def pending_key(height: int) -> bytes:
    return PENDING_PREFIX + struct.pack(">Q", height)


def evidence_key(evidence_hash: bytes) -> bytes:
    return EVIDENCE_PREFIX + evidence_hash
