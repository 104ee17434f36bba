"""Rebuild a node's store by replaying its blocks from genesis, and compare.

``replay`` runs every stored block through the block-sync path
(``ConsensusRunner.commit_synced``: the commit must carry +2/3 of the power of
the set that decides the height, the block must follow its parent, and
executing it must give the app hash the next header names) into a fresh
store. A block that is missing, unreadable or fails those checks comes from
``fetch`` (peers) if given; otherwise its height is damaged and the replay
stops there. ``compare`` then finds every record of the old store that differs
from the rebuilt one, by kind: blocks, results, index, state.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import plyvel

from wattchain.consensus.application import InvalidBlock
from wattchain.consensus.safety import MemorySignGuard
from wattchain.errors import WattchainError
from wattchain.genesis import Genesis
from wattchain.node.chain import Chain
from wattchain.node.consensus_runner import ConsensusRunner
from wattchain.node.store import BlockStore, StoreCorrupted, StoreError, leveldb_message
from wattchain.types import Block, Commit

log = logging.getLogger("wattchain.repair")

Fetch = Callable[[int], "tuple[Block, Commit] | None"]
Progress = Callable[[int, int], None]
KINDS = {b"B": "blocks", b"H": "blocks", b"C": "blocks", b"R": "results", b"A": "results",
         b"T": "index", b"I": "index", b"s": "state", b"M": "meta"}
MAX_LISTED = 5


@dataclass
class Replay:
    """What a replay found: heights whose block or commit the old store could
    not give (nor ``fetch``), heights taken from peers, and how far it got."""

    last_height: int
    replayed_to: int
    damaged_heights: list[int] = field(default_factory=list)
    fetched_heights: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.replayed_to == self.last_height


def open_source(db_path: Path, work: Path) -> tuple[BlockStore, str | None]:
    """The old store, for reading. If it does not open (a damaged LevelDB log or
    table), a salvaged copy in ``work`` (LevelDB's repair drops what it cannot
    read); the original is never changed. Returns (store, why it was salvaged)."""
    try:
        return BlockStore(db_path), None
    except StoreCorrupted as exc:
        salvage = work / "salvaged.db"
        shutil.rmtree(salvage, ignore_errors=True)
        shutil.copytree(db_path, salvage, ignore=shutil.ignore_patterns("LOCK"))
        try:
            plyvel.repair_db(str(salvage))
        except plyvel.Error as repair_error:
            raise StoreError(f"{exc}; LevelDB cannot salvage it either: "
                             f"{leveldb_message(repair_error)}") from None
        return BlockStore(salvage), str(exc)


def last_height(source: BlockStore) -> int:
    """The tip's height, or (if the tip record is damaged) the highest block's."""
    try:
        return source.tip().height
    except StoreCorrupted:
        highest = 0
        for key, _ in source.scan(b"B"):
            highest = max(highest, int.from_bytes(key[1:9], "big"))
        return highest


def _local(source: BlockStore, height: int) -> tuple[Block, Commit] | None:
    try:
        block, commit = source.block(height), source.commit(height)
    except StoreCorrupted:
        return None
    return None if block is None or commit is None else (block, commit)


def replay(source: BlockStore, genesis: Genesis, target: Path, fetch: Fetch | None = None,
           progress: Progress | None = None) -> Replay:
    """Replay ``source``'s blocks into a new store at ``target`` (see the module)."""
    shutil.rmtree(target, ignore_errors=True)
    top = last_height(source)
    replica = Chain(target, genesis)
    runner = ConsensusRunner(replica, None, MemorySignGuard(), lambda: 0)
    found = Replay(top, replica.height)
    try:
        for height in range(replica.height + 1, top + 1):
            if not found.damaged_heights:
                _replay_height(source, runner, replica, height, fetch, found)
            elif _local(source, height) is None:
                found.damaged_heights.append(height)  # listed, not replayed past a gap
            if progress is not None:
                progress(height, top)
        found.replayed_to = replica.height
    finally:
        replica.close()
    return found


def _replay_height(source: BlockStore, runner: ConsensusRunner, replica: Chain, height: int,
                   fetch: Fetch | None, found: Replay) -> None:
    """Commit ``height`` from the old store, else from ``fetch``; else note it damaged."""
    local = _local(source, height)
    if local is not None and _commit(runner, local, height, found):
        _check_app_hash(source, replica.tip.app_hash, height, found)
        return
    fetched = fetch(height) if fetch is not None else None
    if fetched is not None and _commit(runner, fetched, height, found):
        found.fetched_heights.append(height)
        return
    found.damaged_heights.append(height)


def _commit(runner: ConsensusRunner, stored: tuple[Block, Commit], height: int,
            found: Replay) -> bool:
    try:
        runner.commit_synced(*stored)
    except (InvalidBlock, WattchainError) as exc:
        found.problems.append(f"block {height}: {exc}")
        return False
    return True


def _check_app_hash(source: BlockStore, app_hash: bytes, height: int, found: Replay) -> None:
    try:
        recorded = source.app_hash(height)
    except StoreCorrupted:
        recorded = None
    if recorded is not None and recorded != app_hash:
        found.problems.append(f"height {height}: the replay's app hash differs from the "
                              "one recorded")


def compare(source: BlockStore, rebuilt: BlockStore) -> dict[str, list[str]]:
    """Every difference of ``source`` from ``rebuilt``, by kind of record:
    records missing, unreadable or different, and records the rebuilt store
    does not have."""
    found: dict[str, list[str]] = {}

    def note(key: bytes, what: str) -> None:
        found.setdefault(KINDS.get(key[:1], "other"), []).append(f"{what} {key[:24]!r}")

    for key, value in rebuilt.db.iterator():
        try:
            old = source.db.get(key, verify_checksums=True)
        except plyvel.Error:
            note(key, "unreadable")
            continue
        if old is None:
            note(key, "missing")
        elif old != value:
            note(key, "different")
    try:
        for key in source.db.iterator(include_value=False, verify_checksums=True):
            if rebuilt.db.get(key) is None:
                note(key, "extra")
    except plyvel.Error as exc:
        found.setdefault("unreadable", []).append(leveldb_message(exc))
    return found


def summary(differences: list[str]) -> str:
    """The one difference, or ``n record(s): the first few``."""
    if len(differences) == 1:
        return differences[0]
    shown = ", ".join(differences[:MAX_LISTED])
    more = f", and {len(differences) - MAX_LISTED} more" if len(differences) > MAX_LISTED else ""
    return f"{len(differences)} record(s): {shown}{more}"
