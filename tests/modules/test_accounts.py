"""The accounts module: the settlement token, roles and admin-quorum governance."""

from __future__ import annotations

from typing import Any

import pytest
from chain_helpers import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    FAUCET,
    FAUCET_BALANCE,
    MIN_FEE,
    Chain,
    account,
    account_entry,
    balance,
    default_accounts,
    make_chain,
    make_genesis,
    make_tx,
    nonce,
    query,
    run_block,
    snapshot,
    start_chain,
    supply,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from wattchain.crypto import PrivateKey, format_address
from wattchain.modules.accounts.errors import (
    AlreadyApproved,
    InsufficientBalance,
    LastAdmin,
    MissingRole,
    RoleUnchanged,
    SupplyOverflow,
    UnknownRole,
)
from wattchain.modules.accounts.types import MAX_SUPPLY
from wattchain.types import Event
from wattchain.vm import errors
from wattchain.vm.execution import TxResult


def hex_address(holder: PrivateKey) -> str:
    return format_address(holder.address)


def call(chain: Chain, signer: PrivateKey, method: str, *args: Any) -> TxResult:
    """Send one accounts tx in its own block; return its result."""
    stx = make_tx(signer, nonce(chain, signer), "accounts", method, list(args))
    (result,) = run_block(chain, [stx]).tx_results
    return result


def assert_failed(result: TxResult, error: type[errors.TxError]) -> None:
    assert (result.code, result.codespace) == (error.code, error.codespace), result.log
    assert result.fee == MIN_FEE and result.events == []


def governed_chain(quorum: int, admins: list[PrivateKey]) -> Chain:
    """The faucet keeps only ``issuer``; ``admins`` govern with ``quorum``."""
    genesis = make_genesis(
        [account_entry(holder, 1_000, ["admin"]) for holder in admins]
        + [account_entry(holder, 1_000) for holder in (ALICE, BOB, CAROL, DAVE)
           if holder not in admins],
        params={"admin_quorum": quorum},
    )
    genesis.app_state["accounts"]["accounts"][0]["roles"] = ["issuer"]
    return start_chain(genesis)


def role_holders(chain: Chain, role: str) -> list[str]:
    return query(chain, "accounts/role", role=role)["accounts"]


# -- the token ------------------------------------------------------------------------


def test_genesis_balances_and_supply() -> None:
    chain = make_chain()
    assert account(chain, FAUCET) == {"address": hex_address(FAUCET), "balance": FAUCET_BALANCE,
                                      "nonce": 0, "roles": ["admin", "issuer"]}
    assert query(chain, "accounts/balance", address=hex_address(BOB)) == {
        "address": hex_address(BOB), "balance": 500}
    assert supply(chain) == {"supply": FAUCET_BALANCE + 1_000 + 500 + 5, "fee_pool": 0}
    assert account(chain, DAVE) == {"address": hex_address(DAVE), "balance": 0, "nonce": 0,
                                    "roles": []}


def test_transfer_to_self_only_costs_the_fee() -> None:
    chain = make_chain()
    result = call(chain, ALICE, "transfer", ALICE.address, 900)
    assert result.ok
    assert balance(chain, ALICE) == 1_000 - MIN_FEE


@pytest.mark.parametrize(
    "args",
    [
        [],
        [BOB.address],
        [BOB.address, 1, 2],
        [BOB.address[:19], 1],
        [format_address(BOB.address), 1],
        [BOB.address, 0],
        [BOB.address, -1],
        [BOB.address, "1"],
        [BOB.address, True],
        [None, 1],
    ],
)
def test_transfer_with_bad_args(args: list[Any]) -> None:
    chain = make_chain()
    before = balance(chain, BOB)
    result = call(chain, ALICE, "transfer", *args)
    assert_failed(result, errors.InvalidArgs)
    assert balance(chain, BOB) == before
    assert balance(chain, ALICE) == 1_000 - MIN_FEE


def test_mint_needs_issuer() -> None:
    chain = make_chain()
    before = supply(chain)
    result = call(chain, ALICE, "mint", ALICE.address, 1_000_000)
    assert_failed(result, MissingRole)
    assert "issuer" in result.log
    assert balance(chain, ALICE) == 1_000 - MIN_FEE
    assert supply(chain)["supply"] == before["supply"]


def test_mint_by_issuer() -> None:
    chain = make_chain()
    before = supply(chain)["supply"]
    result = call(chain, FAUCET, "mint", DAVE.address, 7_000)
    assert result.ok
    assert result.events == [Event("accounts", "mint", [
        ("issuer", hex_address(FAUCET)), ("recipient", hex_address(DAVE)), ("amount", "7000")])]
    assert balance(chain, DAVE) == 7_000
    assert supply(chain)["supply"] == before + 7_000


def test_mint_beyond_the_maximum_supply() -> None:
    chain = make_chain()
    headroom = MAX_SUPPLY - supply(chain)["supply"]
    assert_failed(call(chain, FAUCET, "mint", DAVE.address, headroom + 1), SupplyOverflow)
    assert balance(chain, DAVE) == 0
    assert call(chain, FAUCET, "mint", DAVE.address, headroom).ok
    assert supply(chain)["supply"] == MAX_SUPPLY
    assert_failed(call(chain, FAUCET, "mint", DAVE.address, 1), SupplyOverflow)


def test_burn_needs_issuer_and_funds() -> None:
    chain = make_chain()
    assert_failed(call(chain, BOB, "burn", 100), MissingRole)
    assert balance(chain, BOB) == 500 - MIN_FEE
    before = supply(chain)["supply"]
    result = call(chain, FAUCET, "burn", 250)
    assert result.ok
    assert result.events == [Event("accounts", "burn", [("issuer", hex_address(FAUCET)),
                                                        ("amount", "250")])]
    assert supply(chain)["supply"] == before - 250
    assert balance(chain, FAUCET) == FAUCET_BALANCE - 250 - MIN_FEE
    assert_failed(call(chain, FAUCET, "burn", FAUCET_BALANCE), InsufficientBalance)
    assert supply(chain)["supply"] == before - 250


@pytest.mark.parametrize("args", [[], [0], [-5], ["5"], [5, 6]])
def test_burn_with_bad_args(args: list[Any]) -> None:
    chain = make_chain()
    assert_failed(call(chain, FAUCET, "burn", *args), errors.InvalidArgs)


def test_insufficient_balance_leaves_both_sides_unchanged() -> None:
    chain = make_chain()
    result = call(chain, BOB, "transfer", ALICE.address, 500)  # 500 + fee > 500
    assert_failed(result, InsufficientBalance)
    assert balance(chain, BOB) == 500 - MIN_FEE
    assert balance(chain, ALICE) == 1_000


# -- roles, quorum 1 ------------------------------------------------------------------------


def test_grant_and_revoke_role_need_admin() -> None:
    chain = make_chain()
    result = call(chain, ALICE, "grant_role", ALICE.address, "issuer")
    assert_failed(result, MissingRole)
    assert "admin" in result.log
    assert role_holders(chain, "issuer") == [hex_address(FAUCET)]
    assert_failed(call(chain, ALICE, "revoke_role", FAUCET.address, "issuer"), MissingRole)


def test_grant_and_revoke_with_quorum_one() -> None:
    chain = make_chain()
    granted = call(chain, FAUCET, "grant_role", BOB.address, "dso")
    assert granted.ok
    kinds = [event.kind for event in granted.events]
    assert kinds == ["approval", "role_granted"]
    assert dict(granted.events[1].attributes) == {"account": hex_address(BOB), "role": "dso"}
    assert dict(granted.events[0].attributes)["approvals"] == "1"
    assert account(chain, BOB)["roles"] == ["dso"]
    assert role_holders(chain, "dso") == [hex_address(BOB)]
    assert query(chain, "accounts/proposals") == {"proposals": []}
    revoked = call(chain, FAUCET, "revoke_role", BOB.address, "dso")
    assert [event.kind for event in revoked.events] == ["approval", "role_revoked"]
    assert account(chain, BOB)["roles"] == []
    assert role_holders(chain, "dso") == []


def test_new_issuer_can_mint() -> None:
    chain = make_chain()
    assert_failed(call(chain, ALICE, "mint", ALICE.address, 5), MissingRole)
    assert call(chain, FAUCET, "grant_role", ALICE.address, "issuer").ok
    assert call(chain, ALICE, "mint", ALICE.address, 5).ok
    assert balance(chain, ALICE) == 1_000 - 2 * MIN_FEE + 5


@pytest.mark.parametrize("role", ["king", "Admin", "admin "])
def test_unknown_role(role: str) -> None:
    chain = make_chain()
    result = call(chain, FAUCET, "grant_role", BOB.address, role)
    assert_failed(result, UnknownRole)
    assert "dso" in result.log  # the message lists the roles that exist


@pytest.mark.parametrize("args", [[BOB.address], [BOB.address[:5], "dso"], [BOB.address, ""],
                                  [BOB.address, 5], [BOB.address, "x" * 65]])
def test_role_change_with_bad_args(args: list[Any]) -> None:
    chain = make_chain()
    assert_failed(call(chain, FAUCET, "grant_role", *args), errors.InvalidArgs)


def test_role_unchanged() -> None:
    chain = make_chain()
    assert_failed(call(chain, FAUCET, "grant_role", FAUCET.address, "issuer"), RoleUnchanged)
    assert_failed(call(chain, FAUCET, "revoke_role", BOB.address, "dso"), RoleUnchanged)
    assert query(chain, "accounts/proposals") == {"proposals": []}


def test_last_admin_cannot_be_revoked() -> None:
    chain = make_chain()
    result = call(chain, FAUCET, "revoke_role", FAUCET.address, "admin")
    assert_failed(result, LastAdmin)
    assert role_holders(chain, "admin") == [hex_address(FAUCET)]
    # With a second admin, quorum 1 still holds after one is revoked.
    assert call(chain, FAUCET, "grant_role", ALICE.address, "admin").ok
    assert call(chain, ALICE, "revoke_role", FAUCET.address, "admin").ok
    assert role_holders(chain, "admin") == [hex_address(ALICE)]
    assert_failed(call(chain, ALICE, "revoke_role", ALICE.address, "admin"), LastAdmin)


# -- roles, quorum 2 -------------------------------------------------------------------------


def test_two_admin_approvals_execute_a_grant() -> None:
    chain = governed_chain(2, [ALICE, BOB])
    first = call(chain, ALICE, "grant_role", CAROL.address, "dso")
    assert first.ok
    assert [event.kind for event in first.events] == ["approval"]
    approval = dict(first.events[0].attributes)
    assert (approval["approvals"], approval["quorum"]) == ("1", "2")
    assert account(chain, CAROL)["roles"] == []
    (pending,) = query(chain, "accounts/proposals")["proposals"]
    assert pending == {"id": approval["action"], "action": "grant_role",
                       "account": hex_address(CAROL), "role": "dso",
                       "approvers": [hex_address(ALICE)]}

    again = call(chain, ALICE, "grant_role", CAROL.address, "dso")
    assert_failed(again, AlreadyApproved)
    assert query(chain, "accounts/proposals")["proposals"] == [pending]

    second = call(chain, BOB, "grant_role", CAROL.address, "dso")
    assert second.ok
    assert [event.kind for event in second.events] == ["approval", "role_granted"]
    assert dict(second.events[0].attributes)["approvals"] == "2"
    assert account(chain, CAROL)["roles"] == ["dso"]
    assert query(chain, "accounts/proposals") == {"proposals": []}


def test_different_actions_are_separate_proposals() -> None:
    chain = governed_chain(2, [ALICE, BOB])
    assert call(chain, ALICE, "grant_role", CAROL.address, "dso").ok
    assert call(chain, BOB, "grant_role", CAROL.address, "oracle").ok
    proposals = query(chain, "accounts/proposals")["proposals"]
    assert sorted(p["role"] for p in proposals) == ["dso", "oracle"]
    assert account(chain, CAROL)["roles"] == []
    assert call(chain, BOB, "grant_role", CAROL.address, "dso").ok
    assert account(chain, CAROL)["roles"] == ["dso"]
    (left,) = query(chain, "accounts/proposals")["proposals"]
    assert left["role"] == "oracle" and left["approvers"] == [hex_address(BOB)]


def test_revoking_below_quorum_is_refused() -> None:
    chain = governed_chain(2, [ALICE, BOB])
    assert_failed(call(chain, ALICE, "revoke_role", BOB.address, "admin"), LastAdmin)
    assert query(chain, "accounts/proposals") == {"proposals": []}
    assert role_holders(chain, "admin") == sorted([hex_address(ALICE), hex_address(BOB)])


def test_revoking_with_enough_admins_left() -> None:
    chain = governed_chain(2, [ALICE, BOB, CAROL])
    assert call(chain, ALICE, "revoke_role", CAROL.address, "admin").ok
    assert call(chain, BOB, "revoke_role", CAROL.address, "admin").ok
    assert account(chain, CAROL)["roles"] == []
    assert_failed(call(chain, ALICE, "revoke_role", BOB.address, "admin"), LastAdmin)


def test_a_former_admins_approval_no_longer_counts() -> None:
    chain = governed_chain(2, [ALICE, BOB, CAROL])
    assert call(chain, ALICE, "grant_role", DAVE.address, "dso").ok  # pending, 1 of 2
    assert call(chain, BOB, "revoke_role", ALICE.address, "admin").ok
    assert call(chain, CAROL, "revoke_role", ALICE.address, "admin").ok
    assert account(chain, ALICE)["roles"] == []
    assert_failed(call(chain, ALICE, "grant_role", DAVE.address, "dso"), MissingRole)

    result = call(chain, BOB, "grant_role", DAVE.address, "dso")
    assert result.ok
    assert dict(result.events[0].attributes)["approvals"] == "1"
    assert account(chain, DAVE)["roles"] == []  # Alice's stale approval did not count
    assert call(chain, CAROL, "grant_role", DAVE.address, "dso").ok
    assert account(chain, DAVE)["roles"] == ["dso"]


# -- queries -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["accounts/account", "accounts/balance"])
@pytest.mark.parametrize(
    "data",
    [{}, {"address": 5}, {"address": None}, {"address": b"\x01" * 20}, {"address": "0x12"},
     {"address": "0x" + "zz" * 20}, {"address": "0x" + "ab" * 19 + "  "},
     {"wallet": "0x" + "ab" * 20}],
)
def test_address_queries_with_bad_data(path: str, data: dict[str, Any]) -> None:
    chain = make_chain()
    with pytest.raises(errors.InvalidQuery):
        chain.vm.query(chain.state, path, data)


@pytest.mark.parametrize("data", [{}, {"role": "king"}, {"role": 5}, {"role": None},
                                  {"role": ["admin"]}, {"role": {"admin": 1}}])
def test_role_query_with_bad_data(data: dict[str, Any]) -> None:
    chain = make_chain()
    with pytest.raises(errors.InvalidQuery):
        chain.vm.query(chain.state, "accounts/role", data)


def test_supply_query_ignores_its_data() -> None:
    chain = make_chain()
    expected = supply(chain)
    assert chain.vm.query(chain.state, "accounts/supply", {"anything": [1]}) == expected


def test_queries_do_not_write() -> None:
    chain = make_chain()
    before = snapshot(chain)
    for path in ("account", "balance"):
        query(chain, f"accounts/{path}", address=hex_address(DAVE))
    query(chain, "accounts/role", role="admin")
    query(chain, "accounts/proposals")
    assert snapshot(chain) == before


# -- property: supply is conserved -------------------------------------------------------------

HOLDERS = [FAUCET, ALICE, BOB, CAROL, DAVE]

operations = st.tuples(
    st.sampled_from(["transfer", "mint", "burn"]),
    st.integers(0, len(HOLDERS) - 1),  # sender
    st.integers(0, len(HOLDERS) - 1),  # recipient
    st.integers(1, 1_500),  # amount
    st.sampled_from([MIN_FEE, MIN_FEE + 1, 40]),  # fee
)


class TokenModel:
    """What the chain should do, written the simplest way."""

    def __init__(self) -> None:
        start = {ALICE: 1_000, BOB: 500, CAROL: 5, FAUCET: FAUCET_BALANCE, DAVE: 0}
        self.balances = {holder.address: start[holder] for holder in HOLDERS}
        self.nonces = {holder.address: 0 for holder in HOLDERS}
        self.fee_pool = 0
        self.supply = sum(self.balances.values())

    def apply(self, kind: str, sender: bytes, recipient: bytes, amount: int, fee: int) -> int:
        """Apply one tx; return the result code it should get."""
        if self.balances[sender] < fee:
            return errors.InsufficientFunds.code
        self.balances[sender] -= fee
        self.fee_pool += fee
        self.nonces[sender] += 1
        if kind != "transfer" and sender != FAUCET.address:
            return MissingRole.code
        if kind == "mint":
            self.balances[recipient] += amount
            self.supply += amount
            return 0
        if self.balances[sender] < amount:
            return InsufficientBalance.code
        self.balances[sender] -= amount
        if kind == "transfer":
            self.balances[recipient] += amount
        else:
            self.supply -= amount
        return 0


def build_tx(model: TokenModel, op: tuple[str, int, int, int, int]) -> tuple[Any, int]:
    kind, sender_index, recipient_index, amount, fee = op
    signer, recipient = HOLDERS[sender_index], HOLDERS[recipient_index]
    args: list[Any] = [amount] if kind == "burn" else [recipient.address, amount]
    stx = make_tx(signer, model.nonces[signer.address], "accounts", kind, args, fee=fee)
    return stx, model.apply(kind, signer.address, recipient.address, amount, fee)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.lists(st.lists(operations, max_size=8), min_size=1, max_size=4))
def test_random_token_operations_conserve_supply(blocks: list[list[Any]]) -> None:
    chain = make_chain(default_accounts())
    model = TokenModel()
    for ops in blocks:
        built = [build_tx(model, op) for op in ops]
        result = run_block(chain, [stx for stx, _ in built])  # checks invariants
        assert [r.code for r in result.tx_results] == [code for _, code in built]
        for holder in HOLDERS:
            assert balance(chain, holder) == model.balances[holder.address]
            assert nonce(chain, holder) == model.nonces[holder.address]
        assert supply(chain) == {"supply": model.supply, "fee_pool": model.fee_pool}
        assert chain.vm.check_invariants(chain.state) == []
