"""The real transport: py-libp2p hosts (TCP, Noise, Yamux) with framed streams.

Layout per peer, once connected:

* three outbound streams, one per protocol, opened by this node; a writer
  task per (peer, protocol) drains a bounded queue into its stream (frames
  are coalesced into larger writes when the queue has a backlog);
* three inbound streams opened by the peer, read into ``incoming`` as
  ``Frame`` items. Each side writes only on its own outbound streams and
  reads only its inbound ones, so it does not matter whether both sides
  dialed (two connections) or only one did: order per (peer, protocol) is
  the order of one stream.

A peer counts as connected (``PeerEvent(peer, True)``, listed by ``peers``,
accepted by ``send``) while this node's outbound streams to it are open.
Frames from a peer are held back until its ``PeerEvent(peer, True)`` has been
delivered (at most ``dial_timeout``), so a node can always answer a frame.

Reconnection is ours: py-libp2p 0.8.1 never redials; ``Swarm.dial_peer``
(what ``host.connect`` and ``new_stream`` use) retries a failed dial three
times, then puts the peer in ``Swarm._negative_peer_cache`` and refuses every
dial to it for 60 s; it also waits a 250 ms happy-eyeballs delay even when
there is one address. A supervisor task per persistent peer therefore dials
the peer's one address itself (``Swarm.dial_addr``, retries off), with its
own backoff (``backoff_min`` doubling to ``backoff_max``), and lifts the
negative-cache entry (``Swarm.unblock_peer``) before every attempt; it wakes
early when the peer dials us. A session ends when one of its streams fails
or its connection closes (a stopped or killed peer is noticed in ~5 ms); the
supervisor redials at once, or with backoff if sessions keep ending within
``backoff_max``. Peers that are not persistent get a session when they dial
in, and none after they leave.

``import libp2p`` costs 0.3-0.9 s, so it happens in ``run``; ``peer_id_of``
needs only coincurve.
"""

from __future__ import annotations

import logging
import math
import os
import socket
from dataclasses import dataclass, field
from typing import Any

import trio

from wattchain.node.p2p.transport import (
    MAX_FRAME_BYTES,
    PROTOCOLS,
    Frame,
    FrameReader,
    Incoming,
    PeerEvent,
    pack_frame,
)

log = logging.getLogger("wattchain.p2p.libp2p")

QUEUE_FRAMES = 10_000  # per peer and protocol: a flood of txs never blocks votes
WRITE_BATCH_BYTES = 256 * 1024  # coalesce queued frames up to this much per write
READ_CHUNK = 256 * 1024
DIAL_TIMEOUT_S = 5.0
CLEANUP_TIMEOUT_S = 1.0
SHUTDOWN_TIMEOUT_S = 3.0
PEERSTORE_TTL_S = 24 * 3600

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = []
    while number:
        number, digit = divmod(number, 58)
        out.append(_B58_ALPHABET[digit])
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + "".join(reversed(out))


def peer_id_of(secret: bytes) -> str:
    """The libp2p peer id (base58) of the node key ``secret`` (32-byte secp256k1).

    Identity multihash of the protobuf PublicKey{Type: Secp256k1, Data:
    compressed point}, computed without importing libp2p (the CLI writes
    configs with it)."""
    import coincurve

    public = coincurve.PrivateKey(bytes(secret)).public_key.format(compressed=True)
    key_proto = b"\x08\x02\x12" + bytes([len(public)]) + public
    return _b58encode(b"\x00" + bytes([len(key_proto)]) + key_proto)


def _peer_of_multiaddr(addr: str) -> str:
    parts = addr.rstrip("/").split("/")
    if len(parts) < 3 or parts[-2] not in ("p2p", "ipfs") or not parts[-1]:
        raise ValueError(f"persistent peer {addr!r} must end in /p2p/<peer id>")
    return parts[-1]


@dataclass(eq=False)
class _Session:
    """This node's outbound half towards one peer."""

    peer: str
    queues: dict[str, trio.MemorySendChannel[bytes]]
    scope: trio.CancelScope = field(default_factory=trio.CancelScope)
    failed: bool = False


class Libp2pTransport:
    """``Transport`` over py-libp2p: see the module docstring."""

    def __init__(self, node_key_secret: bytes, listen_host: str = "127.0.0.1",
                 listen_port: int = 0, persistent_peers: list[str] | None = None, *,
                 max_frame_bytes: int = MAX_FRAME_BYTES, queue_frames: int = QUEUE_FRAMES,
                 backoff_min: float = 0.1, backoff_max: float = 2.0,
                 dial_timeout: float = DIAL_TIMEOUT_S) -> None:
        if len(node_key_secret) != 32:
            raise ValueError("the node key must be a 32-byte secp256k1 secret")
        self._secret = bytes(node_key_secret)
        self._local_id = peer_id_of(self._secret)
        self._listen_host = listen_host
        self._listen_port = listen_port
        self._persistent: dict[str, str] = {}
        for addr in persistent_peers or []:
            peer = _peer_of_multiaddr(addr)
            if peer != self._local_id:
                self._persistent[peer] = addr
        self._max_frame_bytes = max_frame_bytes
        self._queue_frames = queue_frames
        self._backoff_min = backoff_min
        self._backoff_max = backoff_max
        self._dial_timeout = dial_timeout

        self._sessions: dict[str, _Session] = {}
        self._supervised: set[str] = set()
        self._wake: dict[str, trio.Event] = {}
        self._banned_until: dict[str, float] = {}
        self._announced: dict[str, trio.Event] = {}  # set while PeerEvent(peer, True) holds
        self._host: Any = None
        self._nursery: trio.Nursery | None = None
        self._incoming: trio.MemorySendChannel[Incoming] | None = None

    # -- Transport ------------------------------------------------------------------

    @property
    def local_id(self) -> str:
        return self._local_id

    def peers(self) -> list[str]:
        return list(self._sessions)

    def send(self, peer: str, protocol: str, data: bytes) -> bool:
        session = self._sessions.get(peer)
        if session is None or len(data) > self._max_frame_bytes:
            return False
        queue = session.queues.get(protocol)
        if queue is None:
            return False
        try:
            queue.send_nowait(pack_frame(data))
        except (trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
            return False
        return True

    def disconnect(self, peer: str) -> None:
        """Close every connection to ``peer`` and refuse it for ``backoff_max``."""
        self._banned_until[peer] = trio.current_time() + self._backoff_max
        session = self._sessions.get(peer)
        if session is not None:
            session.scope.cancel()
        self._spawn(self._close_peer, peer)

    async def run(self, incoming: trio.MemorySendChannel[Incoming], *,
                  task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED) -> None:
        # libp2p listens with SO_REUSEPORT: a second node on a taken port would
        # silently share it, so check first.
        _check_port_free(self._listen_host, self._listen_port)
        listen = _multiaddr(f"/ip4/{self._listen_host}/tcp/{self._listen_port}")
        dial_infos = {peer: _peer_info(addr) for peer, addr in self._persistent.items()}
        host = self._make_host()
        self._incoming = incoming
        self._host = host
        host.get_network().register_notifee(_make_notifee(self))
        for protocol in PROTOCOLS:
            host.set_stream_handler(protocol, self._handle_stream)
        # libp2p's teardown is not written for cancellation: cancelled with us,
        # it leaks its listener (a system task holding the port) and leaves
        # connections half closed, so the peer never notices. It therefore runs
        # in a shielded task, and we close it ourselves before cancelling that.
        host_scope = trio.CancelScope(shield=True)
        try:
            async with trio.open_nursery() as outer:
                try:
                    addrs = await outer.start(self._run_host, host, listen, host_scope)
                    async with trio.open_nursery() as nursery:
                        self._nursery = nursery
                        for peer, info in dial_infos.items():
                            self._supervised.add(peer)
                            nursery.start_soon(self._supervise, peer, info)
                        log.info("p2p listening on %s", ", ".join(addrs))
                        task_status.started(addrs)
                        await trio.sleep_forever()
                finally:
                    self._nursery = None
                    with trio.CancelScope(shield=True), trio.move_on_after(SHUTDOWN_TIMEOUT_S):
                        await _close_host(host)
                    host_scope.cancel()
        finally:
            self._nursery = None
            self._host = None
            self._incoming = None
            self._sessions.clear()
            self._supervised.clear()
            self._wake.clear()
            self._announced.clear()

    async def _run_host(self, host: Any, listen: Any, scope: trio.CancelScope, *,
                        task_status: trio.TaskStatus[list[str]]) -> None:
        with scope:
            async with host.run(listen_addrs=[listen]):
                addrs = [str(a) for a in host.get_addrs()]
                if not addrs:
                    raise OSError(f"p2p could not listen on {listen}")
                task_status.started(addrs)
                await trio.sleep_forever()

    # -- host -----------------------------------------------------------------------

    def _make_host(self) -> Any:
        from libp2p import new_host
        from libp2p.crypto.secp256k1 import create_new_key_pair
        from libp2p.crypto.x25519 import create_new_key_pair as create_x25519_key_pair
        from libp2p.custom_types import TProtocol
        from libp2p.network.config import ConnectionConfig, RetryConfig
        from libp2p.rcmgr import new_resource_manager
        from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_PROTOCOL_ID
        from libp2p.security.noise.transport import Transport as NoiseTransport
        from libp2p.stream_muxer.yamux.yamux import PROTOCOL_ID as YAMUX_PROTOCOL_ID
        from libp2p.stream_muxer.yamux.yamux import Yamux
        from libp2p.transport.tcp.tcp import TCP

        _route_libp2p_logging()
        key_pair = create_new_key_pair(self._secret)
        noise = NoiseTransport(key_pair, noise_privkey=create_x25519_key_pair().private_key)
        config = ConnectionConfig(min_connections=0, low_watermark=0, high_watermark=256,
                                  max_connections=256, dial_timeout=self._dial_timeout)
        host = new_host(
            key_pair=key_pair,
            sec_opt={NOISE_PROTOCOL_ID: noise},  # Noise only: no TLS, secio, plaintext
            muxer_opt={TProtocol(YAMUX_PROTOCOL_ID): Yamux},  # Yamux only: no mplex
            transports=[TCP()],  # no QUIC, websocket, webrtc
            connection_config=config,
            # The breaker's failure count never resets while closed: five resource
            # errors in the node's lifetime would refuse all connections for 60 s.
            resource_manager=new_resource_manager(enable_circuit_breaker=False),
        )
        network: Any = host.get_network()
        # One attempt per dial: our backoff decides when to try again.
        network.retry_config = RetryConfig(max_retries=0)
        # The auto-connector would dial every address in the peerstore (it aims
        # for half the high watermark); leaving it unstarted makes it inert.
        network.auto_connector.start = _inert
        return host

    def _unblock(self, peer_id: Any) -> None:
        """Undo libp2p's 60 s refusal to redial a peer whose last dial failed."""
        network = self._host.get_network()
        unblock = getattr(network, "unblock_peer", None)
        if unblock is not None:
            unblock(peer_id)
        else:  # pragma: no cover - other libp2p versions
            cache = getattr(network, "_negative_peer_cache", None)
            if cache is not None:
                cache.evict(str(peer_id))

    async def _dial(self, peer_id: Any, info: Any) -> None:
        """Connect unless a connection exists. ``host.connect`` would go through
        ``Swarm.dial_peer``, which waits out a 250 ms happy-eyeballs delay even
        for a single address and refuses peers in its negative cache; dialing
        the one address directly takes ~10 ms on loopback."""
        if self._live_connections(str(peer_id)):
            return
        network = self._host.get_network()
        self._host.get_peerstore().add_addrs(peer_id, info.addrs, PEERSTORE_TTL_S)
        # dial_addr ignores the negative cache, but new_stream falls back on
        # dial_peer if the connection is gone by then: lift the block anyway.
        self._unblock(peer_id)
        await network.dial_addr(info.addrs[0], peer_id)

    def _live_connections(self, peer: str) -> list[Any]:
        from libp2p.peer.id import ID

        network = self._host.get_network()
        return [c for c in network.get_connections(ID.from_base58(peer)) if not c.is_closed]

    async def _close_peer(self, peer: str) -> None:
        if self._host is None:
            return
        from libp2p.peer.id import ID

        with trio.move_on_after(CLEANUP_TIMEOUT_S):
            try:
                await self._host.disconnect(ID.from_base58(peer))
            except Exception as exc:  # noqa: BLE001 - libp2p raises assorted errors
                log.debug("closing connections to %s: %r", peer[:16], exc)

    def _spawn(self, fn: Any, *args: Any) -> None:
        if self._nursery is None:
            return
        try:
            self._nursery.start_soon(fn, *args)
        except RuntimeError:  # the nursery is closing: we are shutting down
            pass

    # -- notifications from the swarm (called inline: never block) -------------------

    def _on_connected(self, peer: str) -> None:
        if self._host is None:
            return
        if peer in self._banned_until:
            if self._banned_until[peer] > trio.current_time():
                self._spawn(self._close_peer, peer)
                return
            del self._banned_until[peer]
        if peer in self._supervised:
            wake = self._wake.get(peer)
            if wake is not None:
                wake.set()
            return
        self._supervised.add(peer)
        self._spawn(self._supervise, peer, None)

    # -- per-peer supervisor --------------------------------------------------------

    def _announced_event(self, peer: str) -> trio.Event:
        event = self._announced.get(peer)
        if event is None:
            event = self._announced[peer] = trio.Event()
        return event

    async def _emit(self, item: Incoming) -> None:
        if self._incoming is None:
            return
        try:
            await self._incoming.send(item)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            log.debug("incoming channel closed; dropped %r", item)

    async def _supervise(self, peer: str, info: Any) -> None:
        """Keep a session with ``peer``: forever if it is persistent (``info``,
        its libp2p PeerInfo, given), else while it stays connected to us."""
        from libp2p.peer.id import ID

        peer_id = ID.from_base58(peer)
        delay = self._backoff_min  # between failed attempts
        flap_delay = self._backoff_min  # after sessions that ended soon
        failures = 0
        try:
            while True:
                wait = self._banned_until.get(peer, -math.inf) - trio.current_time()
                if wait > 0:
                    await trio.sleep(wait)
                self._wake[peer] = trio.Event()
                if info is None and not self._live_connections(peer):
                    return  # not ours to redial; it dials us again if it wants
                if info is not None:
                    try:
                        with trio.fail_after(self._dial_timeout):
                            await self._dial(peer_id, info)
                        failures, delay = 0, self._backoff_min
                    except Exception as exc:  # noqa: BLE001 - refused, timeout, handshake
                        # the first of a streak is worth a line (a wrong peer id
                        # in the config shows up here), the retries are not
                        log.log(logging.DEBUG if failures else logging.INFO,
                                "dial %s failed, retrying with backoff: %r", peer[:16], exc)
                        failures += 1
                        with trio.move_on_after(delay):
                            await self._wake[peer].wait()
                        delay = min(delay * 2, self._backoff_max)
                        continue
                lasted = await self._run_session(peer, peer_id)
                if lasted is None:  # the streams would not open
                    pause, delay = delay, min(delay * 2, self._backoff_max)
                elif lasted >= self._backoff_max:  # it was up a while: again at once
                    flap_delay = self._backoff_min
                    continue
                else:  # flapping
                    pause, flap_delay = flap_delay, min(flap_delay * 2, self._backoff_max)
                with trio.move_on_after(pause):
                    await self._wake[peer].wait()
        finally:
            self._supervised.discard(peer)
            self._wake.pop(peer, None)

    async def _run_session(self, peer: str, peer_id: Any) -> float | None:
        """Open our streams to ``peer`` and pump them until one fails or the
        connection closes. Returns how long that lasted (s), or None if the
        streams could not be opened."""
        streams: dict[str, Any] = {}
        try:
            with trio.fail_after(self._dial_timeout):
                for protocol in PROTOCOLS:
                    streams[protocol] = await self._host.new_stream(peer_id, [protocol])
        except Exception as exc:  # noqa: BLE001 - StreamFailure, SwarmException, timeout
            log.debug("opening streams to %s failed: %r", peer[:16], exc)
            await _reset_all(streams.values())
            return None
        started = trio.current_time()
        connections = {id(s.swarm_conn): s.swarm_conn for s in streams.values()
                       if getattr(s, "swarm_conn", None) is not None}
        receivers: dict[str, trio.MemoryReceiveChannel[bytes]] = {}
        queues: dict[str, trio.MemorySendChannel[bytes]] = {}
        for protocol in PROTOCOLS:
            queues[protocol], receivers[protocol] = (
                trio.open_memory_channel[bytes](self._queue_frames))
        session = _Session(peer, queues)
        old = self._sessions.get(peer)
        if old is not None:  # cannot happen with one supervisor per peer; be safe
            old.scope.cancel()
        self._sessions[peer] = session
        try:
            with session.scope:
                await self._emit(PeerEvent(peer, True))
                self._announced_event(peer).set()
                async with trio.open_nursery() as nursery:
                    for protocol in PROTOCOLS:
                        nursery.start_soon(self._writer, session, streams[protocol],
                                           receivers[protocol])
                    for conn in connections.values():
                        nursery.start_soon(self._watch, session, conn)
        finally:
            if self._sessions.get(peer) is session:
                del self._sessions[peer]
                self._announced[peer] = trio.Event()
            for queue in queues.values():
                queue.close()
            with trio.CancelScope(shield=True):
                await _reset_all(streams.values())
                if session.failed:
                    for conn in connections.values():
                        with trio.move_on_after(CLEANUP_TIMEOUT_S):
                            try:
                                await conn.close()
                            except Exception as exc:  # noqa: BLE001
                                log.debug("closing connection to %s: %r", peer[:16], exc)
        log.debug("p2p session with %s ended", peer[:16])
        await self._emit(PeerEvent(peer, False))
        return trio.current_time() - started

    async def _writer(self, session: _Session, stream: Any,
                      queue: trio.MemoryReceiveChannel[bytes]) -> None:
        try:
            async for first in queue:
                batch = [first]
                size = len(first)
                while size < WRITE_BATCH_BYTES:
                    try:
                        frame = queue.receive_nowait()
                    except trio.WouldBlock:
                        break
                    batch.append(frame)
                    size += len(frame)
                await stream.write(b"".join(batch) if len(batch) > 1 else first)
        except Exception as exc:  # noqa: BLE001 - StreamReset, StreamClosed, conn errors
            log.info("p2p stream to %s failed: %r", session.peer[:16], exc)
            session.failed = True
        session.scope.cancel()

    async def _watch(self, session: _Session, conn: Any) -> None:
        await conn.event_closed.wait()
        log.debug("connection to %s closed", session.peer[:16])
        session.scope.cancel()

    # -- inbound --------------------------------------------------------------------

    async def _handle_stream(self, stream: Any) -> None:
        peer = str(stream.muxed_conn.peer_id)
        protocol = str(stream.get_protocol())
        reader = FrameReader(self._max_frame_bytes)
        incoming = self._incoming
        clean = False
        try:
            while incoming is not None:
                try:
                    chunk = await stream.read(READ_CHUNK)
                except Exception:  # noqa: BLE001 - StreamEOF, StreamReset, conn errors
                    chunk = b""
                if not chunk:
                    # A partial frame at the end is dropped. It is no offence: a
                    # connection that dies mid-write looks the same.
                    if reader.buffer:
                        log.info("peer %s: %s ended mid-frame (%d bytes dropped)",
                                 peer[:16], protocol, len(reader.buffer))
                    clean = not reader.buffer
                    return
                try:
                    frames = reader.feed(chunk)
                except ValueError as exc:
                    log.warning("peer %s sent a bad frame on %s: %s; disconnecting",
                                peer[:16], protocol, exc)
                    self.disconnect(peer)
                    return
                for data in frames:
                    announced = self._announced_event(peer)
                    if not announced.is_set():
                        with trio.move_on_after(self._dial_timeout):
                            await announced.wait()
                    await incoming.send(Frame(peer, protocol, data))
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return
        finally:
            with trio.CancelScope(shield=True), trio.move_on_after(CLEANUP_TIMEOUT_S):
                try:
                    await (stream.close() if clean else stream.reset())
                except Exception:  # noqa: BLE001
                    pass


def _route_libp2p_logging() -> None:
    """``import libp2p`` detaches its loggers (no propagation, so warnings reach
    stderr raw) unless LIBP2P_DEBUG is set: hand them to the node's logging
    instead, minus the error it logs for every refused dial (a peer being down
    is routine here; the supervisor logs it at debug level)."""
    if os.environ.get("LIBP2P_DEBUG"):
        return
    logging.getLogger("libp2p").propagate = True
    logging.getLogger("libp2p.transport.tcp.tcp").setLevel(logging.CRITICAL)


def _check_port_free(host: str, port: int) -> None:
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))  # OSError(EADDRINUSE) if a node listens there


async def _close_host(host: Any) -> None:
    network = host.get_network()

    async def close(thing: Any) -> None:
        with trio.move_on_after(CLEANUP_TIMEOUT_S):
            try:
                await thing.close()
            except Exception as exc:  # noqa: BLE001
                log.debug("closing %r: %r", thing, exc)

    async with trio.open_nursery() as nursery:
        for listener in list(network.listeners.values()):
            nursery.start_soon(close, listener)
        for connections in list(network.connections.values()):
            for connection in list(connections):
                nursery.start_soon(close, connection)
    await close(host)


async def _inert() -> None:
    pass


async def _reset_all(streams: Any) -> None:
    for stream in list(streams):
        with trio.move_on_after(CLEANUP_TIMEOUT_S):
            try:
                await stream.reset()
            except Exception:  # noqa: BLE001 - already gone
                pass


def _peer_info(addr: str) -> Any:
    from libp2p.peer.peerinfo import info_from_p2p_addr

    try:
        return info_from_p2p_addr(_multiaddr(addr))
    except Exception as exc:  # noqa: BLE001 - multiaddr and peer id parse errors
        raise ValueError(f"bad persistent peer address {addr!r}: {exc}") from exc


def _multiaddr(text: str) -> Any:
    from multiaddr import Multiaddr

    return Multiaddr(text)


def _make_notifee(transport: Libp2pTransport) -> Any:
    from libp2p.abc import INotifee

    class _Notifee(INotifee):
        async def opened_stream(self, network: Any, stream: Any) -> None:
            pass

        async def closed_stream(self, network: Any, stream: Any) -> None:
            pass

        async def connected(self, network: Any, conn: Any) -> None:
            transport._on_connected(str(conn.muxed_conn.peer_id))

        async def disconnected(self, network: Any, conn: Any) -> None:
            pass

        async def listen(self, network: Any, multiaddr: Any) -> None:
            pass

        async def listen_close(self, network: Any, multiaddr: Any) -> None:
            pass

    return _Notifee()
