"""Which file of a LevelDB directory holds a key: for error messages.

LevelDB 1.22 reports a damaged table as ``Corruption: block checksum
mismatch`` without naming the file. The operator needs the file, so this
module reads the database's MANIFEST (the log of which table files are live
and the key range each holds) and names the tables whose range covers the
key that failed. It only reads; it never changes the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_BLOCK = 32768
_RECORD_HEADER = 7
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4
_NAMED_FILE = re.compile(r"[\w./-]*?(\d{6}\.(?:ldb|sst|log)|MANIFEST-\d+|CURRENT)")
# VersionEdit tags (leveldb/db/version_edit.cc)
_COMPARATOR, _LOG_NUMBER, _NEXT_FILE, _LAST_SEQUENCE = 1, 2, 3, 4
_COMPACT_POINTER, _DELETED_FILE, _NEW_FILE, _PREV_LOG_NUMBER = 5, 6, 7, 9


@dataclass(frozen=True, slots=True)
class TableFile:
    """A live table: its file name and the user keys it spans (inclusive)."""

    name: str
    smallest: bytes
    largest: bytes


def named_file(message: str) -> str | None:
    """The file a LevelDB error message names, if it names one."""
    found = _NAMED_FILE.search(message)
    return found.group(1) if found else None


def _varint(data: bytes, offset: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, offset
        shift += 7


def _sized(data: bytes, offset: int) -> tuple[bytes, int]:
    length, offset = _varint(data, offset)
    return data[offset:offset + length], offset + length


def _log_records(data: bytes) -> list[bytes]:
    """The records of a LevelDB log file (checksums not checked: names only)."""
    records: list[bytes] = []
    pending = b""
    offset = 0
    while offset + _RECORD_HEADER <= len(data):
        room = _BLOCK - offset % _BLOCK
        if room < _RECORD_HEADER:
            offset += room
            continue
        length = int.from_bytes(data[offset + 4:offset + 6], "little")
        kind = data[offset + 6]
        payload = data[offset + _RECORD_HEADER:offset + _RECORD_HEADER + length]
        offset += _RECORD_HEADER + length
        if kind == _FULL:
            records.append(payload)
        elif kind == _FIRST:
            pending = payload
        elif kind == _MIDDLE:
            pending += payload
        elif kind == _LAST:
            records.append(pending + payload)
            pending = b""
        else:  # zero padding: the rest of the block is empty
            offset = -(-offset // _BLOCK) * _BLOCK
    return records


def _apply_edit(edit: bytes, live: dict[int, TableFile]) -> None:
    offset = 0
    while offset < len(edit):
        tag, offset = _varint(edit, offset)
        if tag == _COMPARATOR:
            _, offset = _sized(edit, offset)
        elif tag in (_LOG_NUMBER, _NEXT_FILE, _LAST_SEQUENCE, _PREV_LOG_NUMBER):
            _, offset = _varint(edit, offset)
        elif tag == _COMPACT_POINTER:
            _, offset = _varint(edit, offset)
            _, offset = _sized(edit, offset)
        elif tag == _DELETED_FILE:
            _, offset = _varint(edit, offset)
            number, offset = _varint(edit, offset)
            live.pop(number, None)
        elif tag == _NEW_FILE:
            _, offset = _varint(edit, offset)
            number, offset = _varint(edit, offset)
            _, offset = _varint(edit, offset)
            smallest, offset = _sized(edit, offset)
            largest, offset = _sized(edit, offset)
            live[number] = TableFile(f"{number:06d}.ldb", smallest[:-8], largest[:-8])
        else:
            return  # a tag this reader does not know: stop, keep what is known


def live_tables(db_path: Path) -> list[TableFile]:
    """The live table files of the database at ``db_path`` (empty if unreadable)."""
    try:
        manifest = (db_path / "CURRENT").read_text().strip()
        data = (db_path / manifest).read_bytes()
    except OSError:
        return []
    live: dict[int, TableFile] = {}
    for record in _log_records(data):
        try:
            _apply_edit(record, live)
        except IndexError:
            break
    return [table for _, table in sorted(live.items())]


def tables_holding(db_path: Path, key: bytes) -> list[str]:
    """Names of the live tables whose key range covers ``key``."""
    return [table.name for table in live_tables(db_path)
            if table.smallest <= key <= table.largest]


def log_files(db_path: Path) -> list[str]:
    """LevelDB's own write-ahead logs in ``db_path`` (replayed when it opens)."""
    return sorted(path.name for path in db_path.glob("*.log"))
