"""The consensus write-ahead log on disk: CRC-framed, replayed on restart.

Each frame is ``length (4 bytes) | crc32 (4 bytes) | payload``. The first
frame of the file names the height it belongs to; ``begin_height`` starts a
new file for the next height (older heights are final and in the block
store). On open, a torn or corrupt tail (a crash mid-write) is detected,
reported and cut off; the frames before it are trusted, never the tail.
Damage with intact frames AFTER it is no crash (appends only ever tear at
the end): the log refuses to open (``WalDamaged``) rather than silently drop
those frames; ``wattchain node repair`` moves it aside.
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

from wattchain import codec
from wattchain.errors import DecodeError
from wattchain.node.store import StoreError

log = logging.getLogger("wattchain.wal")
_HEADER = struct.Struct(">II")
MAX_FRAME = 64 << 20


def encode_frame(payload: bytes) -> bytes:
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def read_frames(data: bytes) -> tuple[list[bytes], int]:
    """The intact frames of ``data`` and the byte length they cover."""
    frames: list[bytes] = []
    offset = 0
    while offset + _HEADER.size <= len(data):
        length, crc = _HEADER.unpack_from(data, offset)
        end = offset + _HEADER.size + length
        if length > MAX_FRAME or end > len(data):
            break
        payload = data[offset + _HEADER.size:end]
        if zlib.crc32(payload) != crc:
            break
        frames.append(payload)
        offset = end
    return frames, offset


class WalDamaged(StoreError):
    """Bytes in the middle of the WAL are damaged: intact frames follow them."""

    def __init__(self, path: Path, offset: int) -> None:
        super().__init__(f"the consensus WAL {path} is damaged at byte {offset} "
                         "(intact records follow the damage, so this is no torn write)")
        self.path = path
        self.offset = offset

    def advice(self, home: Path) -> str:
        return (f"{self}; run `wattchain node repair --home {home}` to move it aside "
                "(the node then restarts the height; its sign guard keeps it from "
                "signing twice)")


def frames_follow(data: bytes, start: int) -> bool:
    """Whether an intact, non-empty frame starts anywhere after ``start``."""
    for offset in range(start + 1, len(data) - _HEADER.size):
        length, crc = _HEADER.unpack_from(data, offset)
        end = offset + _HEADER.size + length
        if 0 < length <= MAX_FRAME and end <= len(data) and \
                zlib.crc32(data[offset + _HEADER.size:end]) == crc:
            return True
    return False


def inspect_wal(path: Path) -> tuple[int, bool]:
    """(length of the intact frames, whether the rest is damage rather than a
    torn tail) of the WAL at ``path``; (0, False) if there is none."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return 0, False
    _, good = read_frames(data)
    return good, good < len(data) and frames_follow(data, good)


class FileWAL:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.height = 0
        self.entries: list[bytes] = []
        self._load()
        self._file = open(self.path, "ab")  # noqa: SIM115 - lives as long as the node

    def _load(self) -> None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        frames, good = read_frames(data)
        if good < len(data) and frames_follow(data, good):
            raise WalDamaged(self.path, good)
        if good < len(data):
            log.warning("WAL %s: cut a corrupt or torn tail of %d bytes at offset %d",
                        self.path, len(data) - good, good)
            with open(self.path, "r+b") as handle:
                handle.truncate(good)
                handle.flush()
                os.fsync(handle.fileno())
        if not frames:
            return
        try:
            marker = codec.decode(frames[0])
            self.height = int(marker[1]) if marker[0] == "height" else 0
        except (DecodeError, IndexError, TypeError, ValueError):
            log.warning("WAL %s: unreadable height marker; ignoring the log", self.path)
            return
        self.entries = frames[1:]

    def begin_height(self, height: int) -> None:
        self._file.close()
        temp = self.path.with_suffix(".tmp")
        with open(temp, "wb") as handle:
            handle.write(encode_frame(codec.encode(["height", height])))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, self.path)
        self._file = open(self.path, "ab")  # noqa: SIM115
        self.height = height
        self.entries = []

    def append(self, entry: bytes, sync: bool = False) -> None:
        self._file.write(encode_frame(entry))
        self._file.flush()
        if sync:
            os.fsync(self._file.fileno())
        self.entries.append(entry)

    def replay(self) -> Iterator[bytes]:
        yield from list(self.entries)

    def close(self) -> None:
        self._file.close()
