"""JSON-RPC 2.0 over HTTP POST and websocket (hypercorn + starlette on trio).

Method names follow CometBFT: status, health, net_info, genesis, block,
block_results, blockchain, validators, tx, tx_search, num_unconfirmed_txs,
broadcast_tx_async / _sync / _commit, abci_query, and over a websocket
subscribe / unsubscribe / unsubscribe_all. GET /<method>?key=value works for
quick looks with curl; GET /metrics serves Prometheus metrics.

Bad input never yields a 500 or a traceback: every failure is a JSON-RPC
error object with a standard code.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import trio
from hypercorn.config import Config as HypercornConfig
from hypercorn.trio import serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from wattchain.node.ports import RpcPort
from wattchain.node.rpc_errors import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    RATE_LIMITED,
    TOO_LARGE,
    RpcError,
)
from wattchain.node.rpc_methods import RpcMethods
from wattchain.node.rpc_subscriptions import WebsocketConnection

log = logging.getLogger("wattchain.rpc")

Method = Callable[[dict[str, Any]], Awaitable[Any]]


class RateLimiter:
    """A token bucket per client address (requests per second, burst of 2 s)."""

    def __init__(self, per_second: int) -> None:
        self.per_second = per_second
        self.buckets: dict[str, tuple[float, float]] = {}

    def allow(self, client: str) -> bool:
        if self.per_second <= 0:
            return True
        now = trio.current_time()
        capacity = 2.0 * self.per_second
        tokens, last = self.buckets.get(client, (capacity, now))
        tokens = min(capacity, tokens + (now - last) * self.per_second)
        if tokens < 1:
            self.buckets[client] = (tokens, now)
            return False
        self.buckets[client] = (tokens - 1, now)
        if len(self.buckets) > 10_000:
            self.buckets.clear()
        return True


def broadcast_txs(batch: list[Any]) -> list[bytes]:
    """The txs a JSON-RPC batch broadcasts (malformed ones are left to the calls)."""
    raws = []
    for item in batch:
        if (isinstance(item, dict) and str(item.get("method", "")).startswith("broadcast_tx")
                and isinstance(item.get("params"), dict)
                and isinstance(item["params"].get("tx"), str)):
            try:
                raws.append(base64.b64decode(item["params"]["tx"], validate=True))
            except ValueError:
                continue
    return raws


def error_response(request_id: Any, error: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": error.to_json()}


class JsonRpcServer:
    """Dispatches JSON-RPC requests (HTTP and websocket) to ``RpcMethods``."""

    def __init__(self, node: RpcPort) -> None:
        self.node = node
        self.settings = node.rpc_config
        self.methods = RpcMethods(node)
        self.limiter = RateLimiter(self.settings.rate_limit_per_second)

    # -- dispatch -----------------------------------------------------------

    async def dispatch(self, payload: Any, websocket: Any = None) -> Any:
        """Answer one request or a batch; None when nothing is owed (notifications)."""
        if isinstance(payload, list):
            if not payload:
                return error_response(None, RpcError(INVALID_REQUEST, "Invalid Request",
                                                     "empty batch"))
            if len(payload) > self.settings.max_batch:
                return error_response(None, RpcError(
                    INVALID_REQUEST, "Invalid Request",
                    f"batch of {len(payload)} exceeds the limit of {self.settings.max_batch}"))
            self.node.preverify(broadcast_txs(payload))
            answers = [await self.call(item, websocket) for item in payload]
            return [a for a in answers if a is not None] or None
        return await self.call(payload, websocket)

    async def call(self, request: Any, websocket: Any = None) -> dict[str, Any] | None:
        if not isinstance(request, dict):
            return error_response(None, RpcError(INVALID_REQUEST, "Invalid Request",
                                                 "a request must be a JSON object"))
        request_id = request.get("id")
        if isinstance(request_id, bool) or not isinstance(request_id, (str, int, type(None))):
            request_id = None  # an id of the wrong type is not echoed back (JSON-RPC 2.0, 5)
        is_notification = "id" not in request
        try:
            method, params = self._parse_request(request)
            self.node.metrics.rpc_requests.labels(method).inc()
            result = await self.methods.call(method, params, websocket, request_id)
        except RpcError as error:
            self.node.metrics.rpc_errors.labels(str(error.code)).inc()
            return None if is_notification else error_response(request_id, error)
        except Exception:  # a bug must never reach the client as a traceback
            log.exception("internal error in RPC method")
            self.node.metrics.rpc_errors.labels(str(INTERNAL_ERROR)).inc()
            return None if is_notification else error_response(
                request_id, RpcError(INTERNAL_ERROR, "Internal error"))
        if is_notification:
            return None
        return {"jsonrpc": "2.0", "id": request_id, "result": result}

    def _parse_request(self, request: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if request.get("jsonrpc") != "2.0":
            raise RpcError(INVALID_REQUEST, "Invalid Request", "jsonrpc must be \"2.0\"")
        request_id = request.get("id")
        if request_id is not None and not isinstance(request_id, (str, int)) or isinstance(
            request_id, bool
        ):
            raise RpcError(INVALID_REQUEST, "Invalid Request", "id must be a string or number")
        method = request.get("method")
        if not isinstance(method, str):
            raise RpcError(INVALID_REQUEST, "Invalid Request", "method must be a string")
        params = request.get("params", {})
        if isinstance(params, list) and not params:
            params = {}
        if not isinstance(params, dict):
            raise RpcError(INVALID_REQUEST, "Invalid Request",
                           "params must be an object of named parameters")
        if not self.methods.exists(method):
            raise RpcError(METHOD_NOT_FOUND, "Method not found",
                           f"unknown method {method!r}; known: {', '.join(self.methods.names())}")
        return method, params

    # -- HTTP ---------------------------------------------------------------

    async def http_post(self, request: Request) -> Response:
        client = request.client.host if request.client else "unknown"
        if not self.limiter.allow(client):
            return _json(error_response(None, RpcError(RATE_LIMITED, "Too many requests")), 429)
        body = await self._read_body(request)
        if isinstance(body, Response):
            return body
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # too deep nests
            return _json(error_response(None, RpcError(PARSE_ERROR, "Parse error", str(exc))))
        answer = await self.dispatch(payload)
        if answer is None:
            return Response(status_code=204)
        return _json(answer)

    async def _read_body(self, request: Request) -> bytes | Response:
        limit = self.settings.max_body_bytes
        too_large = _json(error_response(None, RpcError(
            TOO_LARGE, "Request too large", f"the body limit is {limit} bytes")), 413)
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return too_large
        chunks = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                return too_large
            chunks.append(chunk)
        return b"".join(chunks)

    async def http_get(self, request: Request) -> Response:
        method = request.path_params["method"]
        client = request.client.host if request.client else "unknown"
        if not self.limiter.allow(client):
            return _json(error_response(None, RpcError(RATE_LIMITED, "Too many requests")), 429)
        params: dict[str, Any] = {}
        for key, value in request.query_params.items():
            params[key] = int(value) if value.lstrip("-").isdigit() else value.strip("\"'")
        answer = await self.call({"jsonrpc": "2.0", "id": -1, "method": method,
                                  "params": params})
        return _json(answer)

    async def http_index(self, request: Request) -> Response:
        return _json({"methods": self.methods.names(), "websocket": "/websocket",
                      "metrics": "/metrics"})

    async def metrics(self, request: Request) -> Response:
        return Response(self.node.metrics.render(),
                        media_type="text/plain; version=0.0.4; charset=utf-8")

    # -- websocket ----------------------------------------------------------

    async def websocket(self, websocket: WebSocket) -> None:
        await websocket.accept()
        connection = WebsocketConnection(websocket)
        try:
            async with trio.open_nursery() as nursery:
                connection.nursery = nursery
                await self._websocket_loop(websocket, connection)
                nursery.cancel_scope.cancel()
        except WebSocketDisconnect:
            pass
        finally:
            connection.close_subscriptions(self.node.bus)

    async def _websocket_loop(self, websocket: WebSocket,
                              connection: WebsocketConnection) -> None:
        limit = self.settings.max_body_bytes
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None and message.get("bytes") is not None:
                text = message["bytes"].decode("utf-8", "replace")
            if text is None or len(text) > limit:
                await connection.send(error_response(None, RpcError(
                    TOO_LARGE, "Request too large", f"the message limit is {limit} bytes")))
                continue
            try:
                payload = json.loads(text)
            except (ValueError, RecursionError) as exc:  # RecursionError: nested too deep
                await connection.send(error_response(None, RpcError(PARSE_ERROR, "Parse error",
                                                                     str(exc))))
                continue
            answer = await self.dispatch(payload, websocket=connection)
            if answer is not None:
                await connection.send(answer)


def _json(payload: Any, status_code: int = 200) -> Response:
    return JSONResponse(payload, status_code=status_code)


def build_app(node: RpcPort) -> Starlette:
    server = JsonRpcServer(node)
    routes = [
        Route("/", server.http_post, methods=["POST"]),
        Route("/", server.http_index, methods=["GET"]),
        Route("/metrics", server.metrics, methods=["GET"]),
        WebSocketRoute("/websocket", server.websocket),
        Route("/{method}", server.http_get, methods=["GET"]),
    ]
    return Starlette(routes=routes)


async def serve_rpc(node: RpcPort, *, task_status: trio.TaskStatus[list[str]]
                    = trio.TASK_STATUS_IGNORED) -> None:
    settings = node.rpc_config
    config = HypercornConfig()
    config.bind = [f"{settings.host}:{settings.port}"]
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    config.loglevel = "WARNING"
    config.keep_alive_timeout = 75
    config.websocket_max_message_size = settings.max_body_bytes
    await serve(build_app(node), config, task_status=task_status)  # type: ignore[arg-type]
