"""Errors of the chain module (codespace "chain").

Codes are public and never change meaning; append new ones.
"""

from __future__ import annotations

from wattchain.vm.errors import AuthorizationError, TxError


class ChainError(TxError, codespace="chain", code=100):
    """Base of the chain module's errors."""


class NotAdmin(ChainError, AuthorizationError, code=101):
    """Validator changes need the 'admin' role."""


class EmptyValidatorSet(ChainError, code=102):
    """The change would leave no validator."""


class UnknownValidator(ChainError, code=103):
    """No validator with that public key to remove."""


class InvalidEvidence(ChainError, code=104):
    """Evidence that is malformed, does not conflict, or is not the offender's."""
