"""The RPC server's TCP connections: caps per client address and in total.

hypercorn closes a connection that has not sent a complete request head
within ``keep_alive_timeout`` (we set it to the header timeout), but it
accepts connections without limit. ``serve_limited`` runs hypercorn's
per-connection protocol under our own accept loop, which asks a
``ConnectionLimiter`` before serving each connection.

When a cap is reached, the oldest connection of that client (or of all
clients) that is not serving a request is closed to make room: slowloris
connections, which never finish a request head, are always among them, and
an honest client that sends its request at once is served. A new connection
is refused only when every connection counted against the cap is busy.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import trio
from hypercorn.app_wrappers import ASGIWrapper
from hypercorn.config import Config as HypercornConfig
from hypercorn.trio.tcp_server import TCPServer
from hypercorn.trio.worker_context import WorkerContext
from hypercorn.typing import ConnectionState
from hypercorn.utils import repr_socket_addr

log = logging.getLogger("wattchain.rpc")

Peer = tuple[str, int]
AsgiApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]

# accept() fails with these when the process is out of descriptors or memory:
# wait a little and go on rather than crash the server (as trio.serve_listeners does)
_ACCEPT_CAPACITY_ERRNOS = {errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS}


class ConnectionLimiter:
    """Which connections are open, which are serving a request, and the caps.

    Contract: ``admit`` before serving a connection, ``release`` when it ends
    (whatever happened meanwhile); ``abort`` closes a connection from outside
    (a websocket consumer that does not read), waking whatever task is blocked
    on its socket.
    """

    def __init__(self, max_total: int, max_per_client: int) -> None:
        self.max_total = max_total
        self.max_per_client = max_per_client
        self.streams: dict[Peer, trio.SocketStream] = {}  # oldest first
        self.by_client: dict[str, dict[Peer, None]] = {}  # per host, oldest first
        self.busy: dict[Peer, int] = {}  # requests being served, per connection
        self.evicted = 0
        self.refused = 0

    def admit(self, peer: Peer, stream: trio.SocketStream) -> bool:
        """Count ``stream`` as open, closing idle ones over a cap; False: refuse it."""
        same_client = self.by_client.get(peer[0], {})
        if len(same_client) >= self.max_per_client and not self._evict_oldest_idle(same_client):
            self.refused += 1
            return False
        if len(self.streams) >= self.max_total and not self._evict_oldest_idle(self.streams):
            self.refused += 1
            return False
        self.streams[peer] = stream
        self.by_client.setdefault(peer[0], {})[peer] = None
        return True

    def release(self, peer: Peer, stream: trio.SocketStream | None = None
                ) -> trio.SocketStream | None:
        """Forget ``peer``'s connection (only if it is ``stream``, when given);
        the stream, if it was still counted."""
        if stream is not None and self.streams.get(peer) is not stream:
            return None
        stream = self.streams.pop(peer, None)
        same_client = self.by_client.get(peer[0])
        if same_client is not None:
            same_client.pop(peer, None)
            if not same_client:
                del self.by_client[peer[0]]
        return stream

    def abort(self, peer: Peer) -> None:
        """Close ``peer``'s connection now (no-op if it is gone)."""
        stream = self.release(peer)
        if stream is not None:
            stream.socket.close()  # wakes any task blocked reading or writing it

    def _evict_oldest_idle(self, peers: Mapping[Peer, Any]) -> bool:
        for peer in peers:
            if peer not in self.busy:
                self.abort(peer)
                self.evicted += 1
                return True
        return False

    def track(self, app: AsgiApp) -> AsgiApp:
        """``app``, marking a connection busy while one of its requests is served."""
        busy = self.busy

        async def tracked(scope: dict[str, Any], receive: Any, send: Any) -> None:
            client = scope.get("client")
            if not client:
                await app(scope, receive, send)
                return
            peer = (client[0], client[1])
            busy[peer] = busy.get(peer, 0) + 1
            try:
                await app(scope, receive, send)
            finally:
                remaining = busy.pop(peer, 1) - 1
                if remaining > 0:
                    busy[peer] = remaining

        return tracked


async def serve_limited(app: AsgiApp, config: HypercornConfig, limiter: ConnectionLimiter, *,
                        task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED
                        ) -> None:
    """Serve ``app`` over plain HTTP/1.1 and websockets on ``config.bind``, under ``limiter``.

    Reports the bound URLs through ``task_status``; runs until cancelled.
    """
    sockets = config.create_sockets().insecure_sockets
    wrapped = ASGIWrapper(limiter.track(app))  # type: ignore[arg-type]
    context = WorkerContext(None)
    urls = []

    async def handle(stream: trio.SocketStream, peer: Peer) -> None:
        try:
            await TCPServer(wrapped, config, context, ConnectionState({}),
                            stream)  # type: ignore[arg-type]
        finally:
            limiter.release(peer, stream)

    async with trio.open_nursery() as nursery:
        for sock in sockets:
            sock.listen(config.backlog)
            listener = trio.SocketListener(trio.socket.from_stdlib_socket(sock))
            urls.append(f"http://{repr_socket_addr(sock.family, sock.getsockname())}")
            nursery.start_soon(_accept_loop, listener, limiter, handle, nursery)
        task_status.started(urls)


async def _accept_loop(listener: trio.SocketListener, limiter: ConnectionLimiter,
                       handle: Callable[[trio.SocketStream, Peer], Awaitable[None]],
                       nursery: trio.Nursery) -> None:
    while True:
        try:
            stream = await listener.accept()
        except OSError as exc:
            if exc.errno not in _ACCEPT_CAPACITY_ERRNOS:
                raise
            log.warning("RPC cannot accept connections now: %s", exc.strerror)
            await trio.sleep(0.1)
            continue
        try:
            address = stream.socket.getpeername()
            peer = (str(address[0]), int(address[1]))
        except OSError:  # the client is already gone
            await stream.aclose()
            continue
        if not limiter.admit(peer, stream):
            log.info("RPC connection from %s refused: too many connections", peer[0])
            await stream.aclose()
            continue
        nursery.start_soon(handle, stream, peer)
