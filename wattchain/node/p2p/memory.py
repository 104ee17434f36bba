"""An in-memory network of transports, for tests: seeded delays, drops,
duplicates and partitions between named peers, all inside one trio run."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import trio

from wattchain.node.p2p.transport import Frame, Incoming, PeerEvent


@dataclass
class Faults:
    drop: float = 0.0  # probability a frame is lost
    duplicate: float = 0.0  # probability a frame arrives twice
    max_delay_ms: int = 0  # uniform random delay per frame (reorders across protocols)


@dataclass
class MemoryNetwork:
    seed: int = 0
    faults: Faults = field(default_factory=Faults)
    transports: dict[str, MemoryTransport] = field(default_factory=dict)
    cut: set[frozenset[str]] = field(default_factory=set)  # severed links

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)

    def transport(self, peer_id: str, peers: list[str]) -> MemoryTransport:
        transport = MemoryTransport(self, peer_id, peers)
        self.transports[peer_id] = transport
        return transport

    def partition(self, *groups: list[str]) -> None:
        """Sever every link between different groups."""
        for index, group in enumerate(groups):
            for other in groups[index + 1:]:
                for a in group:
                    for b in other:
                        self.cut.add(frozenset((a, b)))
        self._refresh()

    def heal(self) -> None:
        self.cut.clear()
        self._refresh()

    def linked(self, a: str, b: str) -> bool:
        return frozenset((a, b)) not in self.cut

    def _refresh(self) -> None:
        for transport in self.transports.values():
            transport.refresh()


class MemoryTransport:
    def __init__(self, network: MemoryNetwork, peer_id: str, persistent_peers: list[str]) -> None:
        self.network = network
        self._local_id = peer_id
        self.persistent_peers = persistent_peers
        self.incoming: trio.MemorySendChannel[Incoming] | None = None
        self.connected: set[str] = set()
        self.nursery: trio.Nursery | None = None

    @property
    def local_id(self) -> str:
        return self._local_id

    async def run(self, incoming: trio.MemorySendChannel[Incoming], *,
                  task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED) -> None:
        self.incoming = incoming
        try:
            async with trio.open_nursery() as nursery:
                self.nursery = nursery
                self.refresh()
                for peer in self.network.transports.values():
                    peer.refresh()
                task_status.started([f"memory://{self._local_id}"])
                await trio.sleep_forever()
        finally:
            self.incoming = None
            self.nursery = None
            for peer_id in list(self.connected):
                self._drop(peer_id)

    @property
    def running(self) -> bool:
        return self.incoming is not None

    def refresh(self) -> None:
        """Connect to every running, linked peer; drop links that were cut."""
        if not self.running:
            return
        for peer_id, peer in self.network.transports.items():
            if peer_id == self._local_id:
                continue
            wanted = peer.running and self.network.linked(self._local_id, peer_id) and (
                peer_id in self.persistent_peers or self._local_id in peer.persistent_peers)
            if wanted and peer_id not in self.connected:
                self.connected.add(peer_id)
                self._deliver(PeerEvent(peer_id, True))
            elif not wanted and peer_id in self.connected:
                self._drop(peer_id)

    def _drop(self, peer_id: str) -> None:
        self.connected.discard(peer_id)
        self._deliver(PeerEvent(peer_id, False))

    def _deliver(self, item: Incoming) -> None:
        if self.incoming is not None:
            try:
                self.incoming.send_nowait(item)
            except (trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
                pass

    def send(self, peer: str, protocol: str, data: bytes) -> bool:
        target = self.network.transports.get(peer)
        if peer not in self.connected or target is None or not target.running:
            return False
        faults, rng = self.network.faults, self.network.random
        if rng.random() < faults.drop:
            return True
        copies = 2 if rng.random() < faults.duplicate else 1
        for _ in range(copies):
            delay = rng.randint(0, faults.max_delay_ms) / 1000 if faults.max_delay_ms else 0.0
            frame = Frame(self._local_id, protocol, data)
            if delay and self.nursery is not None:
                self.nursery.start_soon(_later, target, frame, delay)
            else:
                target._deliver(frame)
        return True

    def peers(self) -> list[str]:
        return sorted(self.connected)

    def disconnect(self, peer: str) -> None:
        if peer in self.connected:
            self._drop(peer)
            target = self.network.transports.get(peer)
            if target is not None and self._local_id in target.connected:
                target._drop(self._local_id)


async def _later(target: MemoryTransport, frame: Frame, delay: float) -> None:
    await trio.sleep(delay)
    if target.running and frame.peer in target.connected:
        target._deliver(frame)
