"""The accounts module: balances of the settlement token, nonces, roles and
admin-quorum governance of roles."""

from __future__ import annotations

from wattchain.modules.accounts import genesis, invariants
from wattchain.modules.accounts.handlers import AccountsHandlers
from wattchain.modules.accounts.keeper import AccountsKeeper
from wattchain.modules.accounts.queries import AccountsQueries
from wattchain.vm.module import BaseModule, methods_of


class AccountsModule(BaseModule[AccountsKeeper]):
    name = "accounts"

    def __init__(self) -> None:
        keeper = AccountsKeeper()
        super().__init__(
            keeper, genesis, invariants,
            handlers=methods_of(AccountsHandlers(keeper), "transfer", "mint", "burn",
                                "grant_role", "revoke_role"),
            queries=methods_of(AccountsQueries(keeper), "account", "balance", "supply", "role",
                               "proposals"))
