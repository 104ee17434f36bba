"""The accounts module: balances of the settlement token, nonces, roles and
admin-quorum governance of roles."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wattchain.modules.accounts import genesis, invariants
from wattchain.modules.accounts.handlers import AccountsHandlers
from wattchain.modules.accounts.keeper import AccountsKeeper
from wattchain.modules.accounts.queries import AccountsQueries
from wattchain.vm.interface import Context, Handler, Query
from wattchain.vm.state import Overlay, StateReader


class AccountsModule:
    name = "accounts"

    def __init__(self) -> None:
        self.keeper = AccountsKeeper()
        handlers = AccountsHandlers(self.keeper)
        queries = AccountsQueries(self.keeper)
        self.handlers: Mapping[str, Handler] = {
            "transfer": handlers.transfer,
            "mint": handlers.mint,
            "burn": handlers.burn,
            "grant_role": handlers.grant_role,
            "revoke_role": handlers.revoke_role,
        }
        self.queries: Mapping[str, Query] = {
            "account": queries.account,
            "balance": queries.balance,
            "supply": queries.supply,
            "role": queries.role,
            "proposals": queries.proposals,
        }

    def init_genesis(self, state: Overlay, section: Mapping[str, Any]) -> None:
        genesis.init_genesis(self.keeper, state, section)

    def export_genesis(self, state: StateReader) -> dict[str, Any]:
        return genesis.export_genesis(self.keeper, state)

    def end_block(self, ctx: Context) -> None:
        return None

    def check_invariants(self, state: StateReader) -> list[str]:
        return invariants.check_supply(self.keeper, state) + invariants.check_balances_non_negative(
            self.keeper, state
        )
