"""Typed errors shared by every layer.

Each error carries a stable numeric ``code`` and a ``codespace`` (the layer or
module that raised it) so that clients can act on failures without parsing
messages. Codes never change meaning once published.
"""

from __future__ import annotations


class WattchainError(Exception):
    """Base of every error the project raises on purpose."""

    codespace = "wattchain"
    code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DecodeError(WattchainError):
    """Bytes that are not a canonical encoding of the expected shape."""

    codespace = "codec"
    code = 2


class SignatureError(WattchainError):
    """A signature that is malformed, high-S or does not match its signer."""

    codespace = "crypto"
    code = 3
