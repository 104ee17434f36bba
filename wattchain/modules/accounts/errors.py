"""Errors of the accounts module (codespace "accounts").

Codes are public and never change meaning; append new ones.
"""

from __future__ import annotations

from wattchain.vm import errors


class AccountsError(errors.TxError, codespace="accounts", code=100):
    """Base of the accounts module's errors."""


class InsufficientBalance(AccountsError, code=101):
    """The balance is below the amount to move or burn."""


class MissingRole(errors.MissingRole, AccountsError, code=102):
    """The sender lacks the role the method needs."""


class UnknownRole(AccountsError, code=103):
    """The role is not one of ``types.ROLES``."""


class AlreadyApproved(AccountsError, code=104):
    """This admin already approved the action; it waits for other admins."""


class RoleUnchanged(AccountsError, code=105):
    """The account already has (or already lacks) the role."""


class LastAdmin(AccountsError, code=106):
    """Revoking this admin would leave too few admins to reach quorum."""


class SupplyOverflow(AccountsError, code=107):
    """Minting would take the supply above ``MAX_SUPPLY``."""
