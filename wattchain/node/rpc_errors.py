"""JSON-RPC 2.0 errors, with the codes clients expect."""

from __future__ import annotations

from typing import Any

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_ERROR = -32000  # a valid request the node cannot serve now
TIMEOUT = -32001
NOT_FOUND = -32002
RATE_LIMITED = -32005
TOO_LARGE = -32006
STORAGE_ERROR = -32008  # the node's database failed to read; the operator must look
SERVER_BUSY = -32009  # tx submission refused under load; data.retry_after_ms says when to retry


class RpcError(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def invalid_params(message: str) -> RpcError:
    return RpcError(INVALID_PARAMS, "Invalid params", message)
