"""Read-only queries of the accounts module (abci_query paths ``accounts/...``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wattchain.crypto import format_address
from wattchain.modules.accounts.actions import describe_action
from wattchain.modules.accounts.keeper import AccountsKeeper
from wattchain.modules.accounts.types import ROLE_BITS, role_names
from wattchain.vm.fields import query_address, query_choice
from wattchain.vm.state import StateReader


class AccountsQueries:
    def __init__(self, keeper: AccountsKeeper) -> None:
        self.keeper = keeper

    def account(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        address = query_address(data, "address")
        account = self.keeper.get_account(state, address)
        return {
            "address": format_address(address),
            "balance": account.balance,
            "nonce": account.nonce,
            "roles": role_names(account.roles),
        }

    def balance(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        address = query_address(data, "address")
        return {"address": format_address(address),
                "balance": self.keeper.get_account(state, address).balance}

    def supply(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        return {"supply": self.keeper.supply(state), "fee_pool": self.keeper.fee_pool(state)}

    def role(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        role = query_choice(data, "role", ROLE_BITS)
        holders = [format_address(address) for address, account
                   in self.keeper.iterate_accounts(state) if account.has_role(role)]
        return {"role": role, "accounts": holders}

    def proposals(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        items = []
        for action_id, action, approvers in self.keeper.iterate_proposals(state):
            items.append({
                "id": "0x" + action_id.hex(),
                **describe_action(action),
                "approvers": [format_address(a) for a in approvers],
            })
        return {"proposals": items}
