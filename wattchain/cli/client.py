"""A small JSON-RPC client for the CLI and tests (httpx, synchronous)."""

from __future__ import annotations

import base64
import itertools
from typing import Any

import httpx

from wattchain.errors import WattchainError


class NodeUnavailable(WattchainError):
    codespace = "client"
    code = 50


class RpcCallError(WattchainError):
    codespace = "client"
    code = 51

    def __init__(self, message: str, rpc_code: int = 0, data: Any = None) -> None:
        super().__init__(message)
        self.rpc_code = rpc_code
        self.data = data


class RpcClient:
    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self._ids = itertools.count(1)
        self._http = httpx.Client(timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RpcClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, method: str, **params: Any) -> Any:
        request = {"jsonrpc": "2.0", "id": next(self._ids), "method": method,
                   "params": params}
        try:
            response = self._http.post(self.url + "/", json=request)
        except httpx.ConnectError:
            raise NodeUnavailable(
                f"cannot reach a node at {self.url}: is it running? "
                "(start one with `wattchain node start --home DIR`, or pass --node URL)"
            ) from None
        except httpx.TimeoutException:
            raise NodeUnavailable(f"the node at {self.url} did not answer in time") from None
        try:
            answer = response.json()
        except ValueError:
            raise RpcCallError(f"the node answered HTTP {response.status_code} "
                               "without JSON") from None
        if "error" in answer:
            error = answer["error"]
            detail = error.get("data")
            message = error.get("message", "error")
            if detail:
                message = f"{message}: {detail}"
            raise RpcCallError(message, error.get("code", 0), detail)
        return answer["result"]

    def call_batch(self, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
        """Send many calls in one HTTP request; results (or error objects) in order."""
        return [answer.get("result", answer.get("error"))
                for answer in self.call_batch_answers(calls)]

    def call_batch_answers(self, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
        """Like ``call_batch``, but each answer whole: ``{"result": ...}`` or
        ``{"error": ...}``, so a result is never taken for an error."""
        requests = [{"jsonrpc": "2.0", "id": index, "method": method, "params": params}
                    for index, (method, params) in enumerate(calls)]
        try:
            response = self._http.post(self.url + "/", json=requests)
        except httpx.ConnectError:
            raise NodeUnavailable(f"cannot reach a node at {self.url}") from None
        except httpx.TimeoutException:
            raise NodeUnavailable(f"the node at {self.url} did not answer in time") from None
        answers = response.json()
        if isinstance(answers, dict):
            raise RpcCallError(str(answers.get("error")))
        by_id = {a["id"]: a for a in answers}
        return [by_id[i] for i in range(len(calls))]

    # -- conveniences ------------------------------------------------------------

    def query(self, path: str, **data: Any) -> Any:
        response = self.call("abci_query", path=path, data=data)["response"]
        if response["code"] != 0:
            raise RpcCallError(response["log"], response["code"])
        return response["value"]

    def broadcast(self, raw: bytes, mode: str = "commit") -> Any:
        return self.call(f"broadcast_tx_{mode}", tx=base64.b64encode(raw).decode())
