"""State reads and writes of the accounts module: balances, nonces, roles,
supply, the fee pool and admin governance proposals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from msgpack import packb, unpackb

from wattchain import codec
from wattchain.hashing import sha256
from wattchain.modules.accounts import keys
from wattchain.modules.accounts.errors import AlreadyApproved, InsufficientBalance, SupplyOverflow
from wattchain.modules.accounts.types import MAX_SUPPLY, Account
from wattchain.vm.errors import InsufficientFunds
from wattchain.vm.state import Overlay, StateReader


def _load_int(state: StateReader, key: bytes) -> int:
    raw = state.get(key)
    return 0 if raw is None else int(unpackb(raw))


class AccountsKeeper:
    """The bank. Also the vm's ``FeeLedger``."""

    def get_account(self, state: StateReader, address: bytes) -> Account:
        raw = state.get(keys.account_key(address))
        if raw is None:
            return Account()
        balance, nonce, roles = unpackb(raw)
        return Account(balance, nonce, roles)

    def set_account(self, state: Overlay, address: bytes, account: Account) -> None:
        state.set(keys.account_key(address), packb(account.to_list()))

    def iterate_accounts(self, state: StateReader) -> Iterator[tuple[bytes, Account]]:
        start = len(keys.ACCOUNT_PREFIX)
        for key, raw in state.iterate(keys.ACCOUNT_PREFIX):
            yield key[start:], Account(*unpackb(raw))

    # -- FeeLedger ---------------------------------------------------------

    def get_nonce(self, state: StateReader, address: bytes) -> int:
        raw = state.get(keys.account_key(address))
        return 0 if raw is None else int(unpackb(raw)[1])

    def get_balance(self, state: StateReader, address: bytes) -> int:
        raw = state.get(keys.account_key(address))
        return 0 if raw is None else int(unpackb(raw)[0])

    def charge_fee(self, state: Overlay, address: bytes, fee: int, next_nonce: int) -> None:
        account = self.get_account(state, address)
        if account.balance < fee:
            raise InsufficientFunds(
                f"balance {account.balance} cannot pay the fee {fee}"
            )
        account.balance -= fee
        account.nonce = next_nonce
        self.set_account(state, address, account)
        if fee:
            state.set(keys.FEE_POOL_KEY, packb(self.fee_pool(state) + fee))

    # -- token -------------------------------------------------------------

    def supply(self, state: StateReader) -> int:
        return _load_int(state, keys.SUPPLY_KEY)

    def fee_pool(self, state: StateReader) -> int:
        return _load_int(state, keys.FEE_POOL_KEY)

    def transfer(self, state: Overlay, sender: bytes, recipient: bytes, amount: int) -> None:
        source = self.get_account(state, sender)
        if source.balance < amount:
            raise InsufficientBalance(
                f"balance {source.balance} is less than the amount {amount}"
            )
        source.balance -= amount
        self.set_account(state, sender, source)
        target = self.get_account(state, recipient)
        target.balance += amount
        self.set_account(state, recipient, target)

    def mint(self, state: Overlay, recipient: bytes, amount: int) -> None:
        supply = self.supply(state)
        if supply + amount > MAX_SUPPLY:
            raise SupplyOverflow(f"minting {amount} would exceed the maximum supply")
        target = self.get_account(state, recipient)
        target.balance += amount
        self.set_account(state, recipient, target)
        state.set(keys.SUPPLY_KEY, packb(supply + amount))

    def burn(self, state: Overlay, holder: bytes, amount: int) -> None:
        source = self.get_account(state, holder)
        if source.balance < amount:
            raise InsufficientBalance(f"balance {source.balance} is less than {amount} to burn")
        source.balance -= amount
        self.set_account(state, holder, source)
        state.set(keys.SUPPLY_KEY, packb(self.supply(state) - amount))

    # -- governance --------------------------------------------------------

    def is_admin(self, state: StateReader, address: bytes) -> bool:
        return self.get_account(state, address).has_role("admin")

    def approve_action(
        self, state: Overlay, approver: bytes, action: list[Any], quorum: int
    ) -> tuple[bytes, int]:
        """Record ``approver``'s approval of ``action``; return (action id, approvals).

        Once approvals reach ``quorum`` the proposal is removed: the caller
        then carries the action out. A second approval by the same admin is
        refused. Approvals by accounts that have since lost the admin role no
        longer count and are dropped.
        """
        action_id = sha256(codec.encode(action))
        key = keys.proposal_key(action_id)
        raw = state.get(key)
        approvers: list[bytes] = [] if raw is None else codec.decode(raw)[1]
        approvers = [a for a in approvers if self.get_account(state, a).has_role("admin")]
        if approver in approvers:
            raise AlreadyApproved("you already approved this action; it waits for other admins")
        approvers = sorted(approvers + [approver])
        if len(approvers) >= quorum:
            state.delete(key)
        else:
            state.set(key, codec.encode([action, approvers]))
        return action_id, len(approvers)

    def iterate_proposals(
        self, state: StateReader
    ) -> Iterator[tuple[bytes, list[Any], list[bytes]]]:
        start = len(keys.PROPOSAL_PREFIX)
        for key, raw in state.iterate(keys.PROPOSAL_PREFIX):
            action, approvers = codec.decode(raw)
            yield key[start:], action, approvers
