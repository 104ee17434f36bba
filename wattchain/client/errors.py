"""Errors of the client library.

Each is a ``WattchainError`` with codespace ``client`` and a stable code, and a
message meant for the person running the app: the CLI prints it as is.
"""

from __future__ import annotations

from typing import Any

from wattchain.errors import WattchainError


class ClientError(WattchainError):
    """Input or chain data the client cannot work with (a bad file, a wrong key)."""

    codespace = "client"
    code = 49


class NodeUnavailable(ClientError):
    """No node answered at the URL, or it answered too late."""

    code = 50


class RpcCallError(ClientError):
    """The node answered a call with a JSON-RPC error or a failed query.

    ``rpc_code`` is the node's code (a JSON-RPC code, or the query's code);
    ``data`` the error's detail, if any.
    """

    code = 51

    def __init__(self, message: str, rpc_code: int = 0, data: Any = None) -> None:
        super().__init__(message)
        self.rpc_code = rpc_code
        self.data = data


class TxRefused(ClientError):
    """The node refused a tx before it reached a block (check_tx failed).

    ``check`` is the node's check result: code, codespace and log.
    """

    code = 52

    def __init__(self, message: str, check: dict[str, Any]) -> None:
        super().__init__(message)
        self.check = check
