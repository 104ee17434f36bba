"""Transaction validation and execution errors, with stable codes.

Codes 2-19 are the vm's (codespace "vm"); modules number their own errors
from 100 within their codespace.
"""

from __future__ import annotations

from wattchain.errors import WattchainError


class TxError(WattchainError):
    """A transaction that cannot be applied. ``code`` is stable and public."""

    codespace = "vm"
    code = 1


class MalformedTx(TxError):
    code = 2


class BadSignature(TxError):
    code = 3


class WrongChainId(TxError):
    code = 4


class BadNonce(TxError):
    code = 5


class FeeTooLow(TxError):
    code = 6


class InsufficientFunds(TxError):
    code = 7


class UnknownMethod(TxError):
    code = 8


class TxExpired(TxError):
    code = 9


class TxTooLarge(TxError):
    code = 10


class Unauthorized(TxError):
    """The sender lacks the role the method needs."""

    code = 11


class InvalidArgs(TxError):
    code = 12


class NotFound(TxError):
    code = 13


class InternalError(TxError):
    """A bug in a handler; the tx fails, the chain goes on."""

    code = 19


class QueryError(WattchainError):
    codespace = "query"
    code = 30


class UnknownQuery(QueryError):
    code = 31


class InvalidQuery(QueryError):
    code = 32
