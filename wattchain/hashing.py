"""Hashes: sha256 ids and the Merkle root of a block's transactions."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_LEN = 32
EMPTY_HASH = hashlib.sha256(b"").digest()

_LEAF = b"\x00"
_NODE = b"\x01"


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """RFC 6962 style Merkle root: leaves and inner nodes are domain separated.

    The empty list hashes to sha256(b""). An odd node is carried up unpaired,
    so no leaf is ever duplicated (the CVE-2012-2459 pitfall).
    """
    if not leaves:
        return EMPTY_HASH
    level = [hashlib.sha256(_LEAF + leaf).digest() for leaf in leaves]
    while len(level) > 1:
        paired = [
            hashlib.sha256(_NODE + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]
