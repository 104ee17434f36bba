"""Invariants of the accounts module, checked in tests after every block."""

from __future__ import annotations

from wattchain.modules.accounts.keeper import AccountsKeeper
from wattchain.vm.state import StateReader


def check_supply(keeper: AccountsKeeper, state: StateReader) -> list[str]:
    """Total supply equals every balance plus the fee pool."""
    held = sum(account.balance for _, account in keeper.iterate_accounts(state))
    held += keeper.fee_pool(state)
    supply = keeper.supply(state)
    if held != supply:
        return [f"accounts: supply {supply} != balances + fee pool {held}"]
    return []


def check_balances_non_negative(keeper: AccountsKeeper, state: StateReader) -> list[str]:
    return [
        f"accounts: negative balance at 0x{address.hex()}"
        for address, account in keeper.iterate_accounts(state)
        if account.balance < 0 or account.nonce < 0
    ]


def check_all(keeper: AccountsKeeper, state: StateReader) -> list[str]:
    return check_supply(keeper, state) + check_balances_non_negative(keeper, state)
