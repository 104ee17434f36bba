"""Transaction validation and execution errors, with stable codes.

Codes 2-19 are the vm's (codespace "vm"); modules number their own errors
from 100 within their codespace. An error class states its code and
codespace in its header, ``class UnknownFeed(OracleError, code=102)``;
a subclass that names neither keeps its parent's.

``AuthorizationError`` is the base of every refusal about *who* sent a tx
(a missing role, not the zone's operator, not the owner) as opposed to what
it says; each module's such errors derive from it, so clients and the
authorization matrix test tell the two apart (``tests/modules/
test_authorization_matrix.py`` holds the policy). ``MissingRole`` and
``RecordNotFound`` are defined here once: each module
subclasses them in its ``errors.py`` to give them its codespace (and, where
its published code differs, its code).
"""

from __future__ import annotations

from typing import Any

from wattchain.errors import WattchainError


class CodedError(WattchainError):
    """A WattchainError whose subclasses set ``code`` and ``codespace`` as
    class keywords."""

    def __init_subclass__(cls, *, code: int | None = None, codespace: str | None = None,
                          **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code
        if codespace is not None:
            cls.codespace = codespace


class TxError(CodedError, codespace="vm", code=1):
    """A transaction that cannot be applied. ``code`` is stable and public."""


class MalformedTx(TxError, code=2):
    """The bytes are not a canonical signed transaction."""


class BadSignature(TxError, code=3):
    """The signature is not the sender's over these bytes."""


class WrongChainId(TxError, code=4):
    """The transaction names another chain."""


class BadNonce(TxError, code=5):
    """The nonce is not the sender's next one."""


class FeeTooLow(TxError, code=6):
    """The fee is below the chain's minimum."""


class InsufficientFunds(TxError, code=7):
    """The sender cannot pay the fee."""


class UnknownMethod(TxError, code=8):
    """No module handles this (module, method)."""


class TxExpired(TxError, code=9):
    """The block is above the transaction's ``valid_until_height``."""


class TxTooLarge(TxError, code=10):
    """The transaction is above ``max_tx_bytes``."""


class AuthorizationError(TxError):
    """Base of the refusals about who sent a tx (its role, or its relation to the
    zone, asset, meter or order it names); its subclasses keep their own codes."""


class Unauthorized(AuthorizationError, code=11):
    """The sender lacks the role the method needs."""


class InvalidArgs(TxError, code=12):
    """An argument of the method has the wrong type or range (``vm.fields``)."""


class NotFound(TxError, code=13):
    """A record the method names does not exist."""


class InternalError(TxError, code=19):
    """A bug in a handler; the tx fails, the chain goes on."""


class MissingRole(AuthorizationError, code=101):
    """The sender lacks the role the method needs (a module's code 101 unless its
    subclass says otherwise)."""


class QueryError(CodedError, codespace="query", code=30):
    """A query that cannot be answered."""


class UnknownQuery(QueryError, code=31):
    """No module answers this query path."""


class InvalidQuery(QueryError, code=32):
    """A field of the query's data has the wrong type or range (``vm.fields``)."""


class RecordNotFound(QueryError, code=150):
    """A query for a record that does not exist (a module's code 150 unless its
    subclass says otherwise)."""
