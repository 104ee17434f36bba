"""Genesis import and export of the accounts module.

Section shape::

    {"accounts": [{"address": "0x..", "balance": 0, "nonce": 0, "roles": ["admin"]}],
     "fee_pool": 0,
     "proposals": [{"action": ["grant_role", "0x..", "dso"], "approvers": ["0x.."]}]}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from msgpack import packb

from wattchain import codec
from wattchain.crypto import format_address, parse_address
from wattchain.hashing import sha256
from wattchain.modules.accounts import keys
from wattchain.modules.accounts.actions import action_from_json, action_to_json
from wattchain.modules.accounts.keeper import AccountsKeeper
from wattchain.modules.accounts.types import MAX_SUPPLY, ROLE_BITS, Account, role_mask, role_names
from wattchain.vm.state import Overlay, StateReader


class GenesisError(ValueError):
    pass


def validate_section(section: Mapping[str, Any]) -> list[str]:
    if not isinstance(section, Mapping):
        return ["app_state.accounts must be an object"]
    entries = section.get("accounts", [])
    if not isinstance(entries, list):
        return ["app_state.accounts.accounts must be a list"]
    problems: list[str] = []
    seen: set[str] = set()
    total = 0
    for index, entry in enumerate(entries):
        where = f"app_state.accounts.accounts[{index}]"
        if not isinstance(entry, Mapping):
            problems.append(f"{where} must be an object")
            continue
        try:
            address = format_address(parse_address(str(entry.get("address", ""))))
        except ValueError as exc:
            problems.append(f"{where}.address: {exc}")
            continue
        if address in seen:
            problems.append(f"{where}: duplicate address {address}")
        seen.add(address)
        for field in ("balance", "nonce"):
            value = entry.get(field, 0)
            if type(value) is not int or value < 0:
                problems.append(f"{where}.{field} must be a non-negative integer")
            elif field == "balance":
                total += value
        roles = entry.get("roles", [])
        if not isinstance(roles, list):
            problems.append(f"{where}.roles must be a list of role names")
            continue
        for role in roles:
            if not isinstance(role, str) or role not in ROLE_BITS:
                problems.append(f"{where}.roles: unknown role {role!r}")
    fee_pool = section.get("fee_pool", 0)
    if type(fee_pool) is not int or fee_pool < 0:
        problems.append("app_state.accounts.fee_pool must be a non-negative integer")
    elif total + fee_pool > MAX_SUPPLY:
        problems.append("app_state.accounts: total supply exceeds the maximum")
    return problems


def init_genesis(keeper: AccountsKeeper, state: Overlay, section: Mapping[str, Any]) -> None:
    problems = validate_section(section)
    if problems:
        raise GenesisError("; ".join(problems))
    supply = 0
    for entry in section.get("accounts", []):
        account = Account(entry.get("balance", 0), entry.get("nonce", 0),
                          role_mask(list(entry.get("roles", []))))
        keeper.set_account(state, parse_address(entry["address"]), account)
        supply += account.balance
    fee_pool = section.get("fee_pool", 0)
    state.set(keys.FEE_POOL_KEY, packb(fee_pool))
    state.set(keys.SUPPLY_KEY, packb(supply + fee_pool))
    for proposal in section.get("proposals", []):
        action = action_from_json(proposal["action"])
        approvers = sorted(parse_address(a) for a in proposal["approvers"])
        action_id = sha256(codec.encode(action))
        state.set(keys.proposal_key(action_id), codec.encode([action, approvers]))


def export_genesis(keeper: AccountsKeeper, state: StateReader) -> dict[str, Any]:
    accounts = [
        {"address": format_address(address), "balance": account.balance,
         "nonce": account.nonce, "roles": role_names(account.roles)}
        for address, account in keeper.iterate_accounts(state)
    ]
    proposals = [
        {"action": action_to_json(action),
         "approvers": [format_address(a) for a in approvers]}
        for _, action, approvers in keeper.iterate_proposals(state)
    ]
    return {"accounts": accounts, "fee_pool": keeper.fee_pool(state), "proposals": proposals}
