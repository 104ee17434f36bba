"""Errors of the accounts module (codespace "accounts")."""

from __future__ import annotations

from wattchain.vm.errors import TxError


class AccountsError(TxError):
    codespace = "accounts"
    code = 100


class InsufficientBalance(AccountsError):
    code = 101


class MissingRole(AccountsError):
    code = 102


class UnknownRole(AccountsError):
    code = 103


class AlreadyApproved(AccountsError):
    code = 104


class RoleUnchanged(AccountsError):
    code = 105


class LastAdmin(AccountsError):
    code = 106


class SupplyOverflow(AccountsError):
    code = 107
