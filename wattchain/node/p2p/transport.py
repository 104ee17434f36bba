"""The transport interface the node talks to, and the frame format.

A transport keeps one long-lived connection per peer and delivers whole
frames per protocol, in order per (peer, protocol). It dials the persistent
peers from the config and redials them when they drop (the node owns
reconnection; py-libp2p does not redial on its own). Everything arriving is
handed over on one channel as ``PeerEvent`` and ``Frame`` items.

Implementations: ``libp2p_transport.Libp2pTransport`` (Noise + Yamux over
TCP) for real nodes, ``memory.MemoryNetwork`` for tests, with faults.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Protocol

import trio

CONSENSUS = "/wattchain/consensus/1.0.0"
TXS = "/wattchain/txs/1.0.0"
SYNC = "/wattchain/sync/1.0.0"
PROTOCOLS = (CONSENSUS, TXS, SYNC)

MAX_FRAME_BYTES = 16 * 1024 * 1024
_LENGTH = struct.Struct(">I")


@dataclass(frozen=True, slots=True)
class PeerEvent:
    """A peer connected or disconnected."""

    peer: str
    connected: bool


@dataclass(frozen=True, slots=True)
class Frame:
    """One whole message from ``peer`` on ``protocol``."""

    peer: str
    protocol: str
    data: bytes


Incoming = PeerEvent | Frame


class Transport(Protocol):
    @property
    def local_id(self) -> str:
        """This node's peer id."""
        ...

    async def run(self, incoming: trio.MemorySendChannel[Incoming], *,
                  task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED) -> None:
        """Listen, dial and redial persistent peers, and feed ``incoming`` until
        cancelled. Reports the listen addresses through ``task_status``."""
        ...

    def send(self, peer: str, protocol: str, data: bytes) -> bool:
        """Queue ``data`` for ``peer`` without blocking; False if the peer is not
        connected or its queue is full (the frame is then dropped)."""
        ...

    def peers(self) -> list[str]:
        """Peers connected now."""
        ...

    def disconnect(self, peer: str) -> None:
        """Drop a misbehaving peer (it may reconnect later)."""
        ...


def pack_frame(data: bytes) -> bytes:
    return _LENGTH.pack(len(data)) + data


class FrameReader:
    """Reassembles length-prefixed frames from a byte stream."""

    def __init__(self, max_bytes: int = MAX_FRAME_BYTES) -> None:
        self.buffer = bytearray()
        self.max_bytes = max_bytes

    def feed(self, chunk: bytes) -> list[bytes]:
        """Add bytes; return every complete frame. Raises ValueError on an oversized one."""
        self.buffer += chunk
        frames = []
        while len(self.buffer) >= _LENGTH.size:
            (length,) = _LENGTH.unpack_from(self.buffer)
            if length > self.max_bytes:
                raise ValueError(f"frame of {length} bytes exceeds {self.max_bytes}")
            end = _LENGTH.size + length
            if len(self.buffer) < end:
                break
            frames.append(bytes(self.buffer[_LENGTH.size:end]))
            del self.buffer[:end]
        return frames
