"""The consensus write-ahead log on disk: CRC-framed, replayed on restart.

Each frame is ``length (4 bytes) | crc32 (4 bytes) | payload``. The first
frame of the file names the height it belongs to; ``begin_height`` starts a
new file for the next height (older heights are final and in the block
store). On open, a torn or corrupt tail (a crash mid-write) is detected,
reported and cut off; the frames before it are trusted, never the tail.
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
