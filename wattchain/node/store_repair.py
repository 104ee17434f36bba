"""``wattchain node check`` and ``wattchain node repair`` on a stopped node's home.

* ``check_home`` scans everything: the consensus WAL, every block and commit
  (replayed from genesis through the block-sync checks into a scratch store),
  and every result, index entry and state key against that replay. It
  changes nothing.
* ``repair_home`` rebuilds the store the same way (blocks the old store lacks
  come from ``fetch``, a peer, each checked against its commit), swaps it in
  and keeps the old one beside it; a WAL damaged in the middle is moved
  aside, a torn tail cut. With blocks that neither the store nor a peer can
  give it refuses (``BlocksMissing``) and changes nothing.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from wattchain.genesis import Genesis
from wattchain.node.config import Home
from wattchain.node.store import BlockStore, StoreError
from wattchain.node.store_replay import Fetch, Progress, Replay, compare, open_source, replay
from wattchain.node.wal import FileWAL, inspect_wal


@dataclass
class Findings:
    """What ``check_home`` or ``repair_home`` found, kind -> descriptions."""

    damage: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, kind: str, *items: str) -> None:
        self.damage.setdefault(kind, []).extend(items)

    @property
    def damaged(self) -> bool:
        return bool(self.damage)


class BlocksMissing(StoreError):
    """Blocks the local store cannot give and no peer gave: repair refuses."""

    def __init__(self, db_path: Path, heights: list[int]) -> None:
        listed = ", ".join(str(h) for h in heights[:10]) + (" ..." if len(heights) > 10 else "")
        super().__init__(f"blocks at heights {listed} are missing or damaged in {db_path} "
                         "and no peer gave them; nothing was changed")
        self.heights = heights

    def advice(self, home: Path) -> str:
        return (f"{self}; run `wattchain node repair --home {home} --peer URL` with the RPC "
                "URL of a node of this chain, or restore the database from a snapshot")


def _scratch(home: Home, name: str) -> Path:
    work = home.db_path.parent / name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    return work


def check_wal(home: Home, findings: Findings) -> None:
    good, damaged = inspect_wal(home.wal_file)
    size = home.wal_file.stat().st_size if home.wal_file.exists() else 0
    if damaged:
        findings.add("wal", f"{home.wal_file} is damaged at byte {good} (intact records "
                            "follow it)")
    elif good < size:
        findings.notes.append(f"{home.wal_file} has a torn tail of {size - good} bytes "
                              "(a crash mid-write; the node cuts it at start)")


def _record_replay(found: Replay, findings: Findings) -> None:
    if found.damaged_heights:
        findings.add("blocks", "missing or damaged at heights "
                     + ", ".join(str(h) for h in found.damaged_heights))
    for problem in found.problems:
        findings.notes.append(problem)


def _scan(home: Home, genesis: Genesis, work: Path, fetch: Fetch | None,
          progress: Progress | None, findings: Findings) -> Replay:
    """Replay into ``work``/rebuilt.db and compare the old store with it."""
    source, salvaged = open_source(home.db_path, work)
    try:
        if salvaged is not None:
            findings.add("database", salvaged)
        found = replay(source, genesis, work / "rebuilt.db", fetch, progress)
        _record_replay(found, findings)
        if not found.complete:
            findings.notes.append(f"results, indexes and state not compared: the replay "
                                  f"stopped at height {found.replayed_to}")
            return found
        rebuilt = BlockStore(work / "rebuilt.db")
        try:
            for kind, differences in compare(source, rebuilt).items():
                if kind == "blocks" and found.damaged_heights:
                    continue  # already listed by height
                findings.add(kind, *differences)
        finally:
            rebuilt.close()
        return found
    finally:
        source.close()


def check_home(home: Home, genesis: Genesis, progress: Progress | None = None) -> Findings:
    """Scan the WAL and the whole store; change nothing (see the module)."""
    findings = Findings()
    check_wal(home, findings)
    work = _scratch(home, "check.tmp")
    try:
        _scan(home, genesis, work, None, progress, findings)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return findings


def repair_wal(home: Home, findings: Findings) -> None:
    """Move a WAL damaged in the middle aside; cut a torn tail."""
    good, damaged = inspect_wal(home.wal_file)
    if damaged:
        kept = _free_name(home.wal_file.with_name(home.wal_file.name + ".damaged"))
        home.wal_file.rename(kept)
        findings.add("wal", f"moved the damaged WAL to {kept}")
    elif home.wal_file.exists() and good < home.wal_file.stat().st_size:
        FileWAL(home.wal_file).close()  # opening cuts the torn tail
        findings.add("wal", "cut a torn tail")


def _free_name(path: Path) -> Path:
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.name}.{number}")
    return candidate


def repair_home(home: Home, genesis: Genesis, fetch: Fetch | None = None,
                progress: Progress | None = None) -> Findings:
    """Repair what can be repaired (see the module); returns what was done.
    Raises BlocksMissing, changing nothing in the store, if blocks are lost."""
    findings = Findings()
    work = _scratch(home, "repair.tmp")
    try:
        found = _scan(home, genesis, work, fetch, progress, findings)
        if found.damaged_heights:
            raise BlocksMissing(home.db_path, found.damaged_heights)
        if found.fetched_heights:
            findings.notes.append("fetched from peers: heights "
                                  + ", ".join(str(h) for h in found.fetched_heights))
        if findings.damaged:
            kept = _free_name(home.db_path.with_name(home.db_path.name + ".damaged"))
            home.db_path.rename(kept)
            (work / "rebuilt.db").rename(home.db_path)
            findings.notes.append(f"the old database is kept at {kept} (delete it once the "
                                  "node runs well)")
        repair_wal(home, findings)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return findings
