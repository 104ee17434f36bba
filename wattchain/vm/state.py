"""Key-value state views.

``StateReader`` is what execution reads from (LevelDB in the node, a dict in
tests). ``Overlay`` buffers writes over a reader, so a transaction's writes
can be applied to the block as a whole or dropped as a whole, and the block's
writes reach the store in one batch.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from typing import Protocol

_DELETED = None


class StateReader(Protocol):
    def get(self, key: bytes) -> bytes | None: ...

    def iterate(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Yield (key, value) pairs whose key starts with ``prefix``, in key order."""
        ...


class MemoryState:
    """A dict-backed reader/writer for tests, genesis building and tooling."""

    __slots__ = ("data",)

    def __init__(self, data: dict[bytes, bytes] | None = None) -> None:
        self.data: dict[bytes, bytes] = dict(data or {})

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    def iterate(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        for key in sorted(k for k in self.data if k.startswith(prefix)):
            yield key, self.data[key]

    def apply(self, writes: dict[bytes, bytes | None]) -> None:
        for key, value in writes.items():
            if value is None:
                self.data.pop(key, None)
            else:
                self.data[key] = value


class Overlay:
    """Buffered writes over a parent reader; ``None`` marks a deletion."""

    __slots__ = ("parent", "writes")

    def __init__(self, parent: StateReader) -> None:
        self.parent = parent
        self.writes: dict[bytes, bytes | None] = {}

    def get(self, key: bytes) -> bytes | None:
        writes = self.writes
        if key in writes:
            return writes[key]
        return self.parent.get(key)

    def set(self, key: bytes, value: bytes) -> None:
        self.writes[key] = value

    def delete(self, key: bytes) -> None:
        self.writes[key] = _DELETED

    def iterate(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Merge the parent's pairs with buffered writes, in key order."""
        own = sorted((k, v) for k, v in self.writes.items() if k.startswith(prefix))
        parent_pairs = (
            (key, value) for key, value in self.parent.iterate(prefix) if key not in self.writes
        )
        for key, value in heapq.merge(own, parent_pairs):
            if value is not None:
                yield key, value

    def commit_into(self, target: Overlay) -> None:
        """Move every buffered write into ``target`` (normally the parent)."""
        target.writes.update(self.writes)
        self.writes = {}

    def sorted_writes(self) -> list[tuple[bytes, bytes | None]]:
        return sorted(self.writes.items())
