"""subscribe / unsubscribe / unsubscribe_all over a websocket connection.

Events for a subscription are sent with the id of the subscribe request, as
CometBFT does: ``{"jsonrpc": "2.0", "id": <id>, "result": {"query", "data",
"events"}}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import trio

from wattchain.node.events import Query, QueryError, Subscription
from wattchain.node.rpc_errors import SERVER_ERROR, RpcError, invalid_params

if TYPE_CHECKING:
    from wattchain.node.node import Node
    from wattchain.node.rpc import WebsocketConnection


async def handle_subscription(node: Node, method: str, params: dict[str, Any],
                              connection: WebsocketConnection, request_id: Any) -> Any:
    if method == "unsubscribe_all":
        connection.close_subscriptions(node)
        return {}
    text = params.get("query")
    if not isinstance(text, str):
        raise invalid_params("query must be a string such as \"tm.event='NewBlock'\"")
    if method == "unsubscribe":
        subscription = connection.subscriptions.pop(text, None)
        if subscription is None:
            raise RpcError(SERVER_ERROR, "Not subscribed", f"no subscription for {text!r}")
        node.bus.unsubscribe(subscription)
        return {}
    try:
        query = Query.parse(text)
    except QueryError as exc:
        raise invalid_params(str(exc)) from None
    if text in connection.subscriptions:
        raise RpcError(SERVER_ERROR, "Already subscribed", f"already subscribed to {text!r}")
    if len(connection.subscriptions) >= node.config.rpc.max_subscriptions:
        raise RpcError(SERVER_ERROR, "Too many subscriptions",
                       f"at most {node.config.rpc.max_subscriptions} per connection")
    subscription, receive = node.bus.subscribe(query)
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
