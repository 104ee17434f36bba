"""subscribe / unsubscribe / unsubscribe_all over a websocket connection.

Events for a subscription are sent with the id of the subscribe request, as
CometBFT does: ``{"jsonrpc": "2.0", "id": <id>, "result": {"query", "data",
"events"}}``.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

import trio

from wattchain.node.events import EventBus, Query, QueryError, Subscription
from wattchain.node.rpc_errors import SERVER_ERROR, RpcError, invalid_params
from wattchain.node.rpc_json import dump_json_text

log = logging.getLogger("wattchain.rpc")

DEFAULT_SEND_QUEUE = 1_000


class TextSocket(Protocol):
    """The sending half of a websocket."""

    async def send_text(self, data: str) -> None: ...


class WebsocketConnection:
    """One websocket client: its subscriptions and its bounded queue of outgoing messages.

    One task at a time, started in ``nursery`` while the queue is not empty,
    sends the queue in order, so answers and events never interleave. A client
    that does not read fills the queue; it is then dropped (``drop``: one log
    line, its socket closed), so no send ever waits on it and neither the node
    nor other subscribers are slowed. ``nursery`` also runs the tasks that
    forward events; it is None until ``start`` (or a caller) sets it.
    """

    def __init__(self, websocket: TextSocket, send_queue: int = DEFAULT_SEND_QUEUE,
                 abort: Callable[[], None] | None = None, name: str = "client") -> None:
        self.websocket = websocket
        self.send_queue = send_queue
        self.outbox: deque[str] = deque()
        self.subscriptions: dict[str, Subscription] = {}
        self.nursery: trio.Nursery | None = None
        self.abort = abort  # closes the connection's socket; None: cancel the nursery
        self.name = name
        self.dropped: str | None = None  # why, once dropped
        self.last_activity = trio.current_time()
        self._sending = False

    def start(self, nursery: trio.Nursery, idle_timeout_s: float) -> None:
        """Send in ``nursery`` from now on, and watch for idleness there."""
        self.nursery = nursery
        nursery.start_soon(self._watch_idle, idle_timeout_s)

    def send(self, message: Any) -> None:
        """Queue ``message``; never waits. A full queue drops the client."""
        if self.dropped is not None:
            return
        if len(self.outbox) >= self.send_queue:
            self.drop(f"slow consumer: {len(self.outbox)} messages unread")
            return
        self.outbox.append(dump_json_text(message))
        if not self._sending and self.nursery is not None:
            self._sending = True  # one sender at a time, while the queue is not empty
            self.nursery.start_soon(self._send_queued)

    def touch(self) -> None:
        """Note that the client sent something (it is not idle)."""
        self.last_activity = trio.current_time()

    def drop(self, reason: str) -> None:
        """Disconnect the client (once), logging ``reason`` in one line."""
        if self.dropped is not None:
            return
        self.dropped = reason
        log.info("websocket client %s dropped: %s", self.name, reason)
        self.outbox.clear()
        if self.abort is not None:
            self.abort()
        elif self.nursery is not None:
            self.nursery.cancel_scope.cancel()

    def close_subscriptions(self, bus: EventBus) -> None:
        for subscription in self.subscriptions.values():
            bus.unsubscribe(subscription)
        self.subscriptions.clear()

    async def _send_queued(self) -> None:
        try:
            while self.outbox:
                try:
                    await self.websocket.send_text(self.outbox.popleft())
                except Exception as exc:  # the client is gone; the receive loop ends too
                    log.debug("websocket client %s: send failed: %s", self.name, exc)
                    self.outbox.clear()
                    return
                self.last_activity = trio.current_time()
        finally:
            self._sending = False

    async def _watch_idle(self, idle_timeout_s: float) -> None:
        """Drop the client after ``idle_timeout_s`` with no message either way and no
        subscription (a subscriber waiting for rare events is not idle)."""
        while True:
            await trio.sleep_until(self.last_activity + idle_timeout_s)
            if self.subscriptions:
                self.last_activity = trio.current_time()
            elif trio.current_time() >= self.last_activity + idle_timeout_s:
                self.drop(f"idle for {idle_timeout_s:g} s")
                return


async def handle_subscription(bus: EventBus, max_subscriptions: int, method: str,
                              params: dict[str, Any], connection: WebsocketConnection,
                              request_id: Any) -> Any:
    """Serve subscribe / unsubscribe / unsubscribe_all for ``connection``."""
    if method == "unsubscribe_all":
        connection.close_subscriptions(bus)
        return {}
    text = params.get("query")
    if not isinstance(text, str):
        raise invalid_params("query must be a string such as \"tm.event='NewBlock'\"")
    if method == "unsubscribe":
        subscription = connection.subscriptions.pop(text, None)
        if subscription is None:
            raise RpcError(SERVER_ERROR, "Not subscribed", f"no subscription for {text!r}")
        bus.unsubscribe(subscription)
        return {}
    try:
        query = Query.parse(text)
    except QueryError as exc:
        raise invalid_params(str(exc)) from None
    if text in connection.subscriptions:
        raise RpcError(SERVER_ERROR, "Already subscribed", f"already subscribed to {text!r}")
    if len(connection.subscriptions) >= max_subscriptions:
        raise RpcError(SERVER_ERROR, "Too many subscriptions",
                       f"at most {max_subscriptions} per connection")
    subscription, receive = bus.subscribe(query)
    connection.subscriptions[text] = subscription
    if connection.nursery is None:
        raise RpcError(SERVER_ERROR, "Connection closing")
    connection.nursery.start_soon(forward_events, connection, subscription, receive, request_id)
    return {}


async def forward_events(connection: WebsocketConnection, subscription: Subscription,
                         receive: trio.MemoryReceiveChannel[Any], request_id: Any) -> None:
    async with receive:
        async for message in receive:
            connection.send({"jsonrpc": "2.0", "id": request_id, "result": message})
    if subscription.dropped:
        connection.send({"jsonrpc": "2.0", "id": request_id, "error": {
            "code": SERVER_ERROR, "message": "Subscription dropped",
            "data": "the client did not keep up with events; subscribe again"}})
