"""subscribe / unsubscribe / unsubscribe_all over a websocket connection.

Events for a subscription are sent with the id of the subscribe request, as
CometBFT does: ``{"jsonrpc": "2.0", "id": <id>, "result": {"query", "data",
"events"}}``.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

import trio

from wattchain.node.events import EventBus, Query, QueryError, Subscription
from wattchain.node.rpc_errors import SERVER_ERROR, RpcError, invalid_params


class TextSocket(Protocol):
    """The sending half of a websocket."""

    async def send_text(self, data: str) -> None: ...


class WebsocketConnection:
    """One websocket client: its subscriptions, and a lock so sends never interleave.

    ``nursery`` runs the tasks that forward events; it is None once the
    connection is closing."""

    def __init__(self, websocket: TextSocket) -> None:
        self.websocket = websocket
        self.lock = trio.Lock()
        self.subscriptions: dict[str, Subscription] = {}
        self.nursery: trio.Nursery | None = None

    async def send(self, message: Any) -> None:
        async with self.lock:
            await self.websocket.send_text(json.dumps(message))

    def close_subscriptions(self, bus: EventBus) -> None:
        for subscription in self.subscriptions.values():
            bus.unsubscribe(subscription)
        self.subscriptions.clear()


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
            await connection.send({"jsonrpc": "2.0", "id": request_id, "result": message})
    if subscription.dropped:
        await connection.send({"jsonrpc": "2.0", "id": request_id, "error": {
            "code": SERVER_ERROR, "message": "Subscription dropped",
            "data": "the client did not keep up with events; subscribe again"}})
