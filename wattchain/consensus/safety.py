"""Safety interfaces: the last-sign state and the write-ahead log.

The node implements both on disk (fsync, atomic rename, CRC frames); the
in-memory versions here serve the simulation and define the contracts.

*Last-sign state.* Before a validator signs a vote or proposal it asks the
guard. Signing slots are ordered by (height, round, step). The guard refuses
any slot below the last one signed, and at the last slot it refuses a
different block id; for the same block id it hands back the message signed
before, so a restarted validator re-sends exactly what it already sent.

*Write-ahead log.* Every consensus input (proposal, vote, timeout, value) is
appended before it is acted on. Replaying the entries of the current height
into a fresh driver rebuilds the same round state.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from wattchain.errors import WattchainError

STEP_PROPOSAL = 0
STEP_PREVOTE = 1
STEP_PRECOMMIT = 2


class DoubleSignRefused(WattchainError):
    codespace = "consensus"
    code = 61


@dataclass(frozen=True, slots=True)
class SignedSlot:
    height: int
    round: int
    step: int
    block_hash: bytes
    message: bytes  # the signed message, ready to re-send

    @property
    def slot(self) -> tuple[int, int, int]:
        return (self.height, self.round, self.step)


class SignGuard(Protocol):
    last: SignedSlot | None  # the last slot signed

    def authorize(self, height: int, round_: int, step: int, block_hash: bytes) -> bytes | None:
        """Raise DoubleSignRefused for a conflicting slot; return the message
        already signed for this exact slot and block id, or None if it is new."""
        ...

    def record(self, signed: SignedSlot) -> None:
        """Persist ``signed`` as the last signed slot, before it is sent."""
        ...


def check_slot(last: SignedSlot | None, height: int, round_: int, step: int,
               block_hash: bytes) -> bytes | None:
    """The guard's rule, shared by every implementation."""
    if last is None:
        return None
    slot = (height, round_, step)
    if slot < last.slot:
        raise DoubleSignRefused(f"refusing to sign {slot}: already signed {last.slot}")
    if slot == last.slot:
        if block_hash != last.block_hash:
            raise DoubleSignRefused(f"refusing to sign a different block at {slot}")
        return last.message
    return None


@dataclass
class MemorySignGuard:
    last: SignedSlot | None = None

    def authorize(self, height: int, round_: int, step: int, block_hash: bytes) -> bytes | None:
        return check_slot(self.last, height, round_, step, block_hash)

    def record(self, signed: SignedSlot) -> None:
        check_slot(self.last, signed.height, signed.round, signed.step, signed.block_hash)
        self.last = signed


class WriteAheadLog(Protocol):
    height: int  # the height whose inputs the log holds

    def begin_height(self, height: int) -> None:
        """Mark the start of ``height``; entries of earlier heights may be dropped."""
        ...

    def append(self, entry: bytes, sync: bool = False) -> None:
        """Log ``entry``; ``sync`` forces it to stable storage before returning."""
        ...

    def replay(self) -> Iterator[bytes]:
        """The entries appended since the last begin_height, in order."""
        ...

    def close(self) -> None: ...


@dataclass
class MemoryWAL:
    height: int = 0
    entries: list[bytes] = field(default_factory=list)

    def begin_height(self, height: int) -> None:
        self.height = height
        self.entries = []

    def append(self, entry: bytes, sync: bool = False) -> None:
        self.entries.append(entry)

    def replay(self) -> Iterator[bytes]:
        yield from list(self.entries)

    def close(self) -> None:
        return None
