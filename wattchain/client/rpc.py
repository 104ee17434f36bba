"""JSON-RPC clients of a WattChain node over HTTP (httpx).

``RpcClient`` is synchronous (scripts, the CLI, back-office jobs);
``AsyncRpcClient`` is the same for trio or asyncio programs. Both speak
JSON-RPC 2.0 to the node's RPC port and turn failures into ``ClientError``s:
``NodeUnavailable`` when nothing answers, ``RpcCallError`` when the node
answers with an error (or a query fails).
"""

from __future__ import annotations

import base64
import itertools
from typing import Any

import httpx

from wattchain.client.errors import NodeUnavailable, RpcCallError

DEFAULT_TIMEOUT_S = 30.0


def rpc_request(request_id: int, method: str, params: dict[str, Any]) -> dict[str, Any]:
    """The JSON-RPC 2.0 request object of one call."""
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}


def rpc_result(answer: Any) -> Any:
    """The ``result`` of one JSON-RPC answer; an ``error`` raises ``RpcCallError``."""
    if "error" in answer:
        error = answer["error"]
        detail = error.get("data")
        message = error.get("message", "error")
        if detail:
            message = f"{message}: {detail}"
        raise RpcCallError(message, error.get("code", 0), detail)
    return answer["result"]


def query_value(result: dict[str, Any]) -> Any:
    """The value of an ``abci_query`` result; a non-zero code raises ``RpcCallError``."""
    response = result["response"]
    if response["code"] != 0:
        raise RpcCallError(response["log"], response["code"])
    return response["value"]


def broadcast_params(raw: bytes) -> dict[str, Any]:
    """The params of a ``broadcast_tx_*`` call carrying the encoded signed tx ``raw``."""
    return {"tx": base64.b64encode(raw).decode()}


def json_answer(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise RpcCallError(f"the node answered HTTP {response.status_code} "
                           "without JSON") from None


def unreachable(url: str, error: httpx.HTTPError) -> NodeUnavailable:
    if isinstance(error, httpx.TimeoutException):
        return NodeUnavailable(f"the node at {url} did not answer in time")
    return NodeUnavailable(f"cannot reach a node at {url}: is it running? "
                           "(start one with `wattchain node start --home DIR`, or pass --node URL)")


class RpcClient:
    """A synchronous JSON-RPC client of one node; use it as a context manager.

    >>> with RpcClient("http://127.0.0.1:26657") as client:   # doctest: +SKIP
    ...     height = client.status()["sync_info"]["latest_block_height"]
    """

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT_S,
                 transport: httpx.BaseTransport | None = None) -> None:
        """``transport``: an httpx transport to use instead of the network (tests,
        an in-process node)."""
        self.url = url.rstrip("/")
        self._ids = itertools.count(1)
        self._http = httpx.Client(timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RpcClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def post(self, body: Any) -> Any:
        """POST a JSON-RPC request (or batch) and return the decoded JSON answer."""
        try:
            response = self._http.post(self.url + "/", json=body)
        except (httpx.ConnectError, httpx.TimeoutException) as exc:
            raise unreachable(self.url, exc) from None
        return json_answer(response)

    def call(self, method: str, **params: Any) -> Any:
        """The result of one call; an error answer raises ``RpcCallError``."""
        return rpc_result(self.post(rpc_request(next(self._ids), method, params)))

    def call_batch(self, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
        """Send many calls in one HTTP request; results (or error objects) in order."""
        return [answer.get("result", answer.get("error"))
                for answer in self.call_batch_answers(calls)]

    def call_batch_answers(self, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
        """Like ``call_batch``, but each answer whole: ``{"result": ...}`` or
        ``{"error": ...}``, so a result is never taken for an error."""
        answers = self.post([rpc_request(index, method, params)
                             for index, (method, params) in enumerate(calls)])
        if isinstance(answers, dict):
            raise RpcCallError(str(answers.get("error")))
        by_id = {answer["id"]: answer for answer in answers}
        return [by_id[index] for index in range(len(calls))]

    # -- conveniences ------------------------------------------------------------

    def query(self, path: str, **data: Any) -> Any:
        """The value of the state query ``path`` (``module/query``) with ``data``."""
        return query_value(self.call("abci_query", path=path, data=data))

    def broadcast(self, raw: bytes, mode: str = "commit") -> Any:
        """Broadcast an encoded signed tx; ``mode`` is async, sync or commit."""
        return self.call(f"broadcast_tx_{mode}", **broadcast_params(raw))

    def status(self) -> Any:
        """The node's ``status``: node info, sync info, validator, consensus."""
        return self.call("status")

    def chain_id(self) -> str:
        return str(self.status()["node_info"]["network"])

    def latest_time_ms(self) -> int:
        """The time of the latest block, in ms since the epoch (the chain's clock)."""
        return int(self.status()["sync_info"]["latest_block_time_ms"])


class AsyncRpcClient:
    """The asynchronous twin of ``RpcClient`` over an ``httpx.AsyncClient``.

    Pass ``http`` to share a client (its owner closes it); otherwise use
    ``async with AsyncRpcClient(url) as client``.
    """

    def __init__(self, url: str, http: httpx.AsyncClient | None = None,
                 timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.url = url
        self.http = http if http is not None else httpx.AsyncClient(timeout=timeout)
        self._owns_http = http is None
        self.next_id = 0

    async def __aenter__(self) -> AsyncRpcClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._owns_http:
            await self.http.aclose()

    async def send(self, body: Any) -> httpx.Response:
        """POST a JSON body to the node; the raw HTTP response."""
        try:
            return await self.http.post(self.url, json=body)
        except (httpx.ConnectError, httpx.TimeoutException) as exc:
            raise unreachable(self.url, exc) from None

    async def request(self, method: str, **params: Any) -> dict[str, Any]:
        """The whole JSON-RPC answer object (``result`` or ``error``) of one call."""
        self.next_id += 1
        answer: dict[str, Any] = json_answer(
            await self.send(rpc_request(self.next_id, method, params)))
        return answer

    async def call(self, method: str, **params: Any) -> Any:
        """The result of one call; an error answer raises ``RpcCallError``."""
        return rpc_result(await self.request(method, **params))

    async def query(self, path: str, **data: Any) -> Any:
        return query_value(await self.call("abci_query", path=path, data=data))

    async def broadcast(self, raw: bytes, mode: str = "commit") -> Any:
        return await self.call(f"broadcast_tx_{mode}", **broadcast_params(raw))
