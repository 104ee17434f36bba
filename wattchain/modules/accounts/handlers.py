"""Transaction handlers of the accounts module, one function per method.

Each handler checks its arguments and the sender's role, then changes state
through the keeper. Raising any TxError leaves state untouched (the vm drops
the transaction's overlay).
"""

from __future__ import annotations

from typing import Any

from wattchain.modules.accounts.errors import LastAdmin, MissingRole, RoleUnchanged, UnknownRole
from wattchain.modules.accounts.keeper import AccountsKeeper
from wattchain.modules.accounts.types import ROLE_BITS
from wattchain.vm.fields import arg_address, arg_amount, arg_text, expect_args
from wattchain.vm.interface import Context, require_role


class AccountsHandlers:
    def __init__(self, keeper: AccountsKeeper) -> None:
        self.keeper = keeper

    def require_role(self, ctx: Context, role: str) -> None:
        require_role(self.keeper, ctx, role, MissingRole)

    def transfer(self, ctx: Context, args: list[Any]) -> None:
        to_raw, amount_raw = expect_args(args, 2, "recipient address, amount")
        recipient = arg_address(to_raw, "recipient")
        amount = arg_amount(amount_raw, "amount")
        self.keeper.transfer(ctx.state, ctx.sender, recipient, amount)
        ctx.emit("transfer", {"sender": ctx.sender, "recipient": recipient, "amount": amount})

    def mint(self, ctx: Context, args: list[Any]) -> None:
        to_raw, amount_raw = expect_args(args, 2, "recipient address, amount")
        self.require_role(ctx, "issuer")
        recipient = arg_address(to_raw, "recipient")
        amount = arg_amount(amount_raw, "amount")
        self.keeper.mint(ctx.state, recipient, amount)
        ctx.emit("mint", {"issuer": ctx.sender, "recipient": recipient, "amount": amount})

    def burn(self, ctx: Context, args: list[Any]) -> None:
        (amount_raw,) = expect_args(args, 1, "amount")
        self.require_role(ctx, "issuer")
        amount = arg_amount(amount_raw, "amount")
        self.keeper.burn(ctx.state, ctx.sender, amount)
        ctx.emit("burn", {"issuer": ctx.sender, "amount": amount})

    def grant_role(self, ctx: Context, args: list[Any]) -> None:
        self._change_role(ctx, args, grant=True)

    def revoke_role(self, ctx: Context, args: list[Any]) -> None:
        self._change_role(ctx, args, grant=False)

    def _change_role(self, ctx: Context, args: list[Any], *, grant: bool) -> None:
        address_raw, role_raw = expect_args(args, 2, "account address, role")
        self.require_role(ctx, "admin")
        address = arg_address(address_raw, "account")
        role = arg_text(role_raw, "role")
        if role not in ROLE_BITS:
            raise UnknownRole(f"unknown role {role!r}; roles are {', '.join(ROLE_BITS)}")
        account = self.keeper.get_account(ctx.state, address)
        if account.has_role(role) == grant:
            raise RoleUnchanged(f"account {'already has' if grant else 'does not have'} "
                                f"the {role!r} role")
        if not grant and role == "admin" and self._admin_count(ctx) <= ctx.params.admin_quorum:
            raise LastAdmin("revoking this admin would leave too few admins to reach quorum")
        action = ["grant_role" if grant else "revoke_role", address, role]
        action_id, approvals = self.keeper.approve_action(
            ctx.state, ctx.sender, action, ctx.params.admin_quorum
        )
        ctx.emit("approval", {"action": "0x" + action_id.hex(), "approver": ctx.sender,
                              "approvals": approvals, "quorum": ctx.params.admin_quorum})
        if approvals < ctx.params.admin_quorum:
            return
        bit = ROLE_BITS[role]
        account.roles = account.roles | bit if grant else account.roles & ~bit
        self.keeper.set_account(ctx.state, address, account)
        ctx.emit("role_granted" if grant else "role_revoked", {"account": address, "role": role})

    def _admin_count(self, ctx: Context) -> int:
        return sum(1 for _, acc in self.keeper.iterate_accounts(ctx.state) if acc.has_role("admin"))
