"""JSON-RPC 2.0 over HTTP POST and websocket (hypercorn + starlette on trio).

Method names follow CometBFT: status, health, net_info, genesis, block,
block_results, blockchain, validators, tx, tx_search, num_unconfirmed_txs,
broadcast_tx_async / _sync / _commit, abci_query, and over a websocket
subscribe / unsubscribe / unsubscribe_all. GET /<method>?key=value works for
quick looks with curl; GET /metrics serves Prometheus metrics.

Bad input never yields a 500 or a traceback: every failure is a JSON-RPC
error object with a standard code, and every reply encodes whatever the
request held (``rpc_json``). A storage failure is a typed error
(STORAGE_ERROR) and one log line. Connections are capped and timed out
(``rpc_connections``; the limits are in ``RpcConfig``).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import plyvel
import trio
from hypercorn.config import Config as HypercornConfig
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from wattchain.node.ports import RpcPort
from wattchain.node.rpc_admission import Busy, TxAdmission
from wattchain.node.rpc_connections import ConnectionLimiter, serve_limited
from wattchain.node.rpc_errors import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    RATE_LIMITED,
    STORAGE_ERROR,
    TIMEOUT,
    TOO_LARGE,
    RpcError,
)
from wattchain.node.rpc_json import encode_json, is_valid_id, parse_int_text, parse_json
from wattchain.node.rpc_methods import RpcMethods
from wattchain.node.rpc_subscriptions import WebsocketConnection
from wattchain.node.store import StoreError

log = logging.getLogger("wattchain.rpc")

Method = Callable[[dict[str, Any]], Awaitable[Any]]

# what a failing database raises: plyvel's errors (CorruptionError, IOError) and the OS's
STORAGE_FAILURES = (plyvel.Error, OSError, StoreError)


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

    def __init__(self, node: RpcPort, connections: ConnectionLimiter | None = None) -> None:
        self.node = node
        self.connections = connections
        self.settings = node.rpc_config
        self.methods = RpcMethods(node)
        self.limiter = RateLimiter(self.settings.rate_limit_per_second)
        self.admission = TxAdmission(node.mempool, self.settings.max_inflight_txs_per_client,
                                     self.settings.max_inflight_txs,
                                     self.settings.busy_retry_after_ms)

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
        if not is_valid_id(request_id):
            request_id = None  # not echoed back (JSON-RPC 2.0, 5); refused below
        is_notification = "id" not in request
        method = "?"
        try:
            method, params = self._parse_request(request)
            self.node.metrics.rpc_requests.labels(method).inc()
            result = await self.methods.call(method, params, websocket, request_id)
        except RpcError as error:
            return self._failed(request_id, is_notification, error)
        except STORAGE_FAILURES as exc:
            # one line, no traceback: the operator needs the file and the error, not our stack
            log.error("storage failure serving RPC %s: %s: %s", method, type(exc).__name__, exc)
            return self._failed(request_id, is_notification, RpcError(
                STORAGE_ERROR, "Storage error",
                "the node's database failed to read; the operator should check the node's log"))
        except Exception:  # a bug must never reach the client as a traceback
            log.exception("internal error in RPC method %s", method)
            return self._failed(request_id, is_notification,
                                RpcError(INTERNAL_ERROR, "Internal error"))
        if is_notification:
            return None
        return {"jsonrpc": "2.0", "id": request_id, "result": result}

    def _failed(self, request_id: Any, is_notification: bool,
                error: RpcError) -> dict[str, Any] | None:
        self.node.metrics.rpc_errors.labels(str(error.code)).inc()
        return None if is_notification else error_response(request_id, error)

    def _parse_request(self, request: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if request.get("jsonrpc") != "2.0":
            raise RpcError(INVALID_REQUEST, "Invalid Request", "jsonrpc must be \"2.0\"")
        if not is_valid_id(request.get("id")):
            raise RpcError(INVALID_REQUEST, "Invalid Request",
                           "id must be a string (valid Unicode), an integer or null")
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
                           f"unknown method {method[:100]!r}; known: "
                           f"{', '.join(self.methods.names())}")
        return method, params

    # -- HTTP ---------------------------------------------------------------

    async def http_post(self, request: Request) -> Response:
        client = request.client.host if request.client else "unknown"
        if not self.limiter.allow(client):
            return _rate_limited()
        try:
            body = await self._read_body(request)
        except ClientDisconnect:
            log.debug("RPC client %s disconnected before sending its whole body", client)
            return Response(status_code=400)
        except RpcError as error:
            return _json(error_response(None, error), _HTTP_STATUS.get(error.code, 200))
        try:
            with self.admission.admitted(client, body):  # before parsing: refusing is cheap
                answer = await self.dispatch(parse_json(body))
        except Busy as busy:
            return self._busy(busy)
        except RpcError as error:  # a parse error
            return _json(error_response(None, error))
        except Exception:  # outside any one call (a batch's preverify): still no 500
            log.exception("internal error in an RPC batch")
            return _json(error_response(None, RpcError(INTERNAL_ERROR, "Internal error")))
        if answer is None:
            return Response(status_code=204)
        return _json(answer)

    def _busy(self, busy: Busy) -> Response:
        self.node.metrics.rpc_errors.labels(str(busy.code)).inc()
        response = _json(error_response(None, busy), 503)
        response.headers["Retry-After"] = busy.retry_after_header()
        return response

    async def _read_body(self, request: Request) -> bytes:
        """The whole body, within the size limit and the body timeout (else RpcError)."""
        limit = self.settings.max_body_bytes
        too_large = RpcError(TOO_LARGE, "Request too large", f"the body limit is {limit} bytes")
        declared = parse_int_text(request.headers.get("content-length", ""))
        if declared is not None and declared > limit:
            raise too_large
        chunks = []
        size = 0
        timeout = self.settings.body_timeout_s
        with trio.move_on_after(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise too_large
                chunks.append(chunk)
            return b"".join(chunks)
        raise RpcError(TIMEOUT, "Request timeout", f"the body did not arrive within {timeout} s")

    async def http_get(self, request: Request) -> Response:
        method = request.path_params["method"]
        client = request.client.host if request.client else "unknown"
        if not self.limiter.allow(client):
            return _rate_limited()
        params: dict[str, Any] = {}
        for key, value in request.query_params.items():
            number = parse_int_text(value)
            params[key] = number if number is not None else value.strip("\"'")
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
        settings = self.settings
        connection = WebsocketConnection(websocket, settings.websocket_send_queue,
                                         self._aborter(websocket), _client_name(websocket))
        try:
            async with trio.open_nursery() as nursery:
                connection.start(nursery, settings.websocket_idle_timeout_s)
                await self._websocket_loop(websocket, connection)
                nursery.cancel_scope.cancel()
        except WebSocketDisconnect:
            pass
        finally:
            connection.close_subscriptions(self.node.bus)

    def _aborter(self, websocket: WebSocket) -> Callable[[], None] | None:
        """A callable closing ``websocket``'s TCP connection, when we serve it."""
        client = websocket.client
        if self.connections is None or client is None:
            return None
        peer = (client.host, client.port)
        connections = self.connections
        return lambda: connections.abort(peer)

    async def _websocket_loop(self, websocket: WebSocket,
                              connection: WebsocketConnection) -> None:
        limit = self.settings.max_websocket_message_bytes
        while connection.dropped is None:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            connection.touch()
            text = message.get("text")
            if text is None and message.get("bytes") is not None:
                text = message["bytes"].decode("utf-8", "replace")
            if text is None or len(text) > limit:
                connection.send(error_response(None, RpcError(
                    TOO_LARGE, "Request too large", f"the message limit is {limit} bytes")))
                continue
            client = websocket.client.host if websocket.client else "unknown"
            try:
                with self.admission.admitted(client, text):
                    answer = await self.dispatch(parse_json(text), websocket=connection)
            except RpcError as error:  # busy, or a parse error
                self.node.metrics.rpc_errors.labels(str(error.code)).inc()
                connection.send(error_response(None, error))
                continue
            if answer is not None:
                connection.send(answer)


_HTTP_STATUS = {TOO_LARGE: 413, TIMEOUT: 408}


def _rate_limited() -> Response:
    response = _json(error_response(None, RpcError(RATE_LIMITED, "Too many requests")), 429)
    response.headers["Retry-After"] = "1"  # the bucket refills within a second
    return response


def _client_name(websocket: WebSocket) -> str:
    client = websocket.client
    return f"{client.host}:{client.port}" if client else "unknown"


def _json(payload: Any, status_code: int = 200) -> Response:
    return Response(encode_json(payload), status_code=status_code,
                    media_type="application/json")


def build_app(node: RpcPort, connections: ConnectionLimiter | None = None) -> Starlette:
    server = JsonRpcServer(node, connections)
    routes = [
        Route("/", server.http_post, methods=["POST"]),
        Route("/", server.http_index, methods=["GET"]),
        Route("/metrics", server.metrics, methods=["GET"]),
        WebSocketRoute("/websocket", server.websocket),
        Route("/{method}", server.http_get, methods=["GET"]),
    ]
    return Starlette(routes=routes)


def hypercorn_config(settings: Any) -> HypercornConfig:
    """hypercorn's settings for ``settings`` (an RpcConfig)."""
    config = HypercornConfig()
    config.bind = [f"{settings.host}:{settings.port}"]
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    config.loglevel = "WARNING"
    # hypercorn closes a connection that has not sent a whole request head within
    # keep_alive_timeout, counted from its opening or from its last answer: the header timeout
    config.keep_alive_timeout = settings.header_timeout_s
    config.websocket_max_message_size = settings.max_websocket_message_bytes
    # a deep accept queue: under a connection flood a full one drops SYNs, and a dropped
    # SYN costs an honest client a 1 s retransmit; the kernel caps it at somaxconn
    config.backlog = 4096
    return config


async def serve_rpc(node: RpcPort, *, task_status: trio.TaskStatus[list[str]]
                    = trio.TASK_STATUS_IGNORED) -> None:
    settings = node.rpc_config
    connections = ConnectionLimiter(settings.max_connections,
                                    settings.max_connections_per_client)
    await serve_limited(build_app(node, connections), hypercorn_config(settings),
                        connections, task_status=task_status)
