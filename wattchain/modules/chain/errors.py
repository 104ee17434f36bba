"""Errors of the chain module (codespace "chain")."""

from __future__ import annotations

from wattchain.vm.errors import TxError


class ChainError(TxError):
    codespace = "chain"
    code = 100


class NotAdmin(ChainError):
    code = 101


class EmptyValidatorSet(ChainError):
    code = 102


class UnknownValidator(ChainError):
    code = 103


class InvalidEvidence(ChainError):
    code = 104
