"""Block execution: validation, fees and nonces, all-or-nothing txs, app hash."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from chain_helpers import (
    ALICE,
    BOB,
    CAROL,
    CHAIN_ID,
    DAVE,
    FAUCET,
    MIN_FEE,
    VALIDATOR,
    Chain,
    balance,
    changed_keys,
    execute,
    make_chain,
    make_tx,
    nonce,
    query,
    run_block,
    snapshot,
    supply,
    transfer,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from wattchain import codec
from wattchain.modules.accounts import AccountsModule
from wattchain.modules.accounts import keys as account_keys
from wattchain.modules.accounts.errors import InsufficientBalance
from wattchain.modules.chain import ChainModule, validators_hash
from wattchain.types import Event, SignedTx, Tx
from wattchain.vm import errors
from wattchain.vm.execution import VM, TxResult, compute_app_hash
from wattchain.vm.interface import Context
from wattchain.vm.state import MemoryState, Overlay, StateReader

# -- a fake module that misbehaves on request -------------------------------------


class ProbeModule:
    """Writes state, then crashes or fails on request; counts blocks in end_block."""

    name = "probe"

    def __init__(self) -> None:
        self.handlers = {"note": self.note, "crash": self.crash, "fail": self.fail}
        self.queries: dict[str, Any] = {}

    def note(self, ctx: Context, args: list[Any]) -> None:
        ctx.state.set(b"probe/note/" + ctx.sender, codec.encode(args))
        ctx.emit("noted", {"count": len(args)})

    def crash(self, ctx: Context, args: list[Any]) -> None:
        ctx.state.set(b"probe/crash", b"written before the crash")
        ctx.emit("crashing", {})
        raise ZeroDivisionError("division by zero in a handler")

    def fail(self, ctx: Context, args: list[Any]) -> None:
        ctx.state.set(b"probe/fail", b"written before the failure")
        raise errors.InvalidArgs("refused on purpose")

    def init_genesis(self, state: Overlay, section: Mapping[str, Any]) -> None:
        return None

    def export_genesis(self, state: StateReader) -> dict[str, Any]:
        return {}

    def end_block(self, ctx: Context) -> None:
        raw = ctx.state.get(b"probe/blocks")
        count = 0 if raw is None else codec.decode(raw)
        ctx.state.set(b"probe/blocks", codec.encode(count + 1))
        ctx.emit("tick", {"height": ctx.height})

    def check_invariants(self, state: StateReader) -> list[str]:
        return []


def probe_chain() -> Chain:
    accounts = AccountsModule()
    modules = [ChainModule(accounts.keeper), accounts, ProbeModule()]
    return make_chain(vm=VM(modules, ledger=accounts.keeper))


def assert_no_effect(chain: Chain, good: list[Any], bad: Any, code: int) -> TxResult:
    """``bad`` after ``good`` must fail with ``code`` and change nothing at all."""
    baseline = execute(chain, good)
    result = execute(chain, [*good, bad])
    failed = result.tx_results[-1]
    assert (failed.code, failed.fee, failed.events) == (code, 0, [])
    assert result.writes == baseline.writes
    assert result.app_hash == baseline.app_hash
    return failed


# -- a valid transfer ---------------------------------------------------------------


def test_transfer_applies() -> None:
    chain = make_chain()
    before = supply(chain)
    result = run_block(chain, [transfer(ALICE, 0, BOB, 300)])
    (tx_result,) = result.tx_results
    assert tx_result.ok and tx_result.fee == MIN_FEE
    assert tx_result.events == [Event("accounts", "transfer", [
        ("sender", "0x" + ALICE.address.hex()), ("recipient", "0x" + BOB.address.hex()),
        ("amount", "300")])]
    assert balance(chain, ALICE) == 1_000 - 300 - MIN_FEE
    assert balance(chain, BOB) == 500 + 300
    assert nonce(chain, ALICE) == 1 and nonce(chain, BOB) == 0
    assert supply(chain) == {"supply": before["supply"], "fee_pool": MIN_FEE}


def test_transfer_to_a_new_account_creates_it() -> None:
    chain = make_chain()
    run_block(chain, [transfer(ALICE, 0, DAVE, 40), transfer(ALICE, 1, DAVE, 2, fee=25)])
    assert balance(chain, DAVE) == 42
    assert balance(chain, ALICE) == 1_000 - 42 - MIN_FEE - 25
    assert supply(chain)["fee_pool"] == MIN_FEE + 25


def test_a_failed_tx_does_not_disturb_its_neighbours() -> None:
    chain = make_chain()
    result = run_block(chain, [transfer(ALICE, 0, BOB, 1), transfer(ALICE, 5, BOB, 1),
                               transfer(ALICE, 1, BOB, 2)])
    assert [r.code for r in result.tx_results] == [0, errors.BadNonce.code, 0]
    assert balance(chain, BOB) == 503
    assert nonce(chain, ALICE) == 2


def test_process_block_does_not_touch_the_state_it_reads() -> None:
    chain = make_chain()
    before = snapshot(chain)
    result = execute(chain, [transfer(ALICE, 0, BOB, 1)])
    assert result.writes and snapshot(chain) == before


def test_raw_and_decoded_txs_give_the_same_block() -> None:
    chain = make_chain()
    txs = [transfer(ALICE, 0, BOB, 7), transfer(BOB, 0, ALICE, 3)]
    decoded = execute(chain, txs)
    raw = execute(chain, [stx.raw for stx in txs])
    assert decoded == raw


# -- invalid transactions change nothing ---------------------------------------------


def test_replayed_nonce_is_refused_and_changes_nothing() -> None:
    chain = make_chain()
    stx = transfer(ALICE, 0, BOB, 100)
    run_block(chain, [stx])
    before = snapshot(chain)
    result = run_block(chain, [stx])
    assert result.tx_results[0].code == errors.BadNonce.code
    assert result.tx_results[0].codespace == "vm"
    assert result.writes == []
    assert snapshot(chain) == before
    assert balance(chain, BOB) == 600


def test_same_tx_twice_in_one_block() -> None:
    chain = make_chain()
    stx = transfer(ALICE, 0, BOB, 100)
    assert_no_effect(chain, [stx], stx, errors.BadNonce.code)


def test_future_nonce_is_refused_in_a_block() -> None:
    chain = make_chain()
    failed = assert_no_effect(chain, [], transfer(ALICE, 1, BOB, 1), errors.BadNonce.code)
    assert "nonce 1" in failed.log and "0" in failed.log


def test_cannot_pay_the_fee() -> None:
    chain = make_chain()  # carol holds 5, less than the minimum fee
    before = snapshot(chain)
    result = run_block(chain, [transfer(CAROL, 0, BOB, 1)])
    assert result.tx_results[0].code == errors.InsufficientFunds.code
    assert result.writes == [] and snapshot(chain) == before
    assert nonce(chain, CAROL) == 0


def test_fee_paid_but_amount_short_drops_only_the_handler_writes() -> None:
    chain = make_chain()
    before = snapshot(chain)
    result = run_block(chain, [transfer(ALICE, 0, BOB, 995)])  # 995 + fee 10 > 1000
    (tx_result,) = result.tx_results
    assert (tx_result.code, tx_result.codespace) == (InsufficientBalance.code, "accounts")
    assert tx_result.fee == MIN_FEE and tx_result.events == []
    assert balance(chain, ALICE) == 1_000 - MIN_FEE
    assert nonce(chain, ALICE) == 1
    assert balance(chain, BOB) == 500
    assert supply(chain)["fee_pool"] == MIN_FEE
    assert changed_keys(before, snapshot(chain)) == {
        account_keys.account_key(ALICE.address), account_keys.FEE_POOL_KEY}


@pytest.mark.parametrize("module, method", [("nope", "transfer"), ("accounts", "steal"),
                                             ("chain", "transfer")])
def test_unknown_method(module: str, method: str) -> None:
    chain = make_chain()
    failed = assert_no_effect(chain, [transfer(ALICE, 0, BOB, 1)],
                              make_tx(BOB, 0, module, method, []), errors.UnknownMethod.code)
    assert f"{module}.{method}" in failed.log


@pytest.mark.parametrize(
    "raw",
    [b"", b"\xc1", b"garbage", codec.encode([b"body", b"sig"]), codec.encode(1),
     codec.encode([codec.encode([CHAIN_ID]), b"\x00" * 65])],
)
def test_malformed_bytes_in_a_block(raw: bytes) -> None:
    chain = make_chain()
    failed = assert_no_effect(chain, [transfer(ALICE, 0, BOB, 1)], raw, errors.MalformedTx.code)
    assert failed.codespace == "vm"


def test_wrong_chain_id() -> None:
    chain = make_chain()
    stx = transfer(ALICE, 0, BOB, 1, chain_id="another-chain")
    failed = assert_no_effect(chain, [], stx, errors.WrongChainId.code)
    assert "another-chain" in failed.log


def test_signed_by_another_key() -> None:
    chain = make_chain()
    forged = make_tx(BOB, 0, "accounts", "transfer", [BOB.address, 500], sender=ALICE.address)
    assert_no_effect(chain, [], forged, errors.BadSignature.code)


@pytest.mark.parametrize("signature", [b"\x00" * 65, b"\x01" * 64, b""])
def test_garbage_signature(signature: bytes) -> None:
    chain = make_chain()
    stx = SignedTx.create(transfer(ALICE, 0, BOB, 1).tx, signature)
    assert_no_effect(chain, [], stx, errors.BadSignature.code)


def test_expired_transaction() -> None:
    chain = make_chain()
    run_block(chain, [])  # height 1; the next block is height 2
    assert execute(chain, [transfer(ALICE, 0, BOB, 1, valid_until_height=2)]).tx_results[0].ok
    assert_no_effect(chain, [], transfer(ALICE, 0, BOB, 1, valid_until_height=1),
                     errors.TxExpired.code)


def test_fee_below_minimum() -> None:
    chain = make_chain()
    failed = assert_no_effect(chain, [], transfer(ALICE, 0, BOB, 1, fee=MIN_FEE - 1),
                              errors.FeeTooLow.code)
    assert str(MIN_FEE) in failed.log
    assert execute(chain, [transfer(ALICE, 0, BOB, 1, fee=MIN_FEE)]).tx_results[0].ok


def test_too_large_transaction_raw_or_decoded() -> None:
    chain = make_chain()
    limit = query(chain, "chain/params")["max_tx_bytes"]
    big = make_tx(ALICE, 0, "accounts", "transfer", [BOB.address, 1, b"\x00" * limit])
    assert limit < len(big.raw) < 64 * 1024
    assert_no_effect(chain, [], big.raw, errors.TxTooLarge.code)
    # A tx handed over already decoded must meet the same limit.
    assert_no_effect(chain, [], big, errors.TxTooLarge.code)


# -- handlers that fail ---------------------------------------------------------------


def test_handler_crash_becomes_internal_error_and_the_chain_goes_on() -> None:
    chain = probe_chain()
    txs = [make_tx(ALICE, 0, "probe", "crash", []), make_tx(ALICE, 1, "probe", "note", [1, 2])]
    result = run_block(chain, txs)
    crashed, noted = result.tx_results
    assert (crashed.code, crashed.codespace) == (errors.InternalError.code, "vm")
    assert "ZeroDivisionError" in crashed.log and "probe.crash" in crashed.log
    assert crashed.fee == MIN_FEE and crashed.events == []
    assert chain.state.get(b"probe/crash") is None
    assert noted.ok and noted.events == [Event("probe", "noted", [("count", "2")])]
    assert chain.state.get(b"probe/note/" + ALICE.address) == codec.encode([1, 2])
    assert nonce(chain, ALICE) == 2
    assert balance(chain, ALICE) == 1_000 - 2 * MIN_FEE
    run_block(chain, [make_tx(ALICE, 2, "probe", "note", [])])
    assert chain.height == 2


def test_handler_typed_failure_drops_its_writes() -> None:
    chain = probe_chain()
    result = run_block(chain, [make_tx(BOB, 0, "probe", "fail", [])])
    assert result.tx_results[0].code == errors.InvalidArgs.code
    assert result.tx_results[0].log == "refused on purpose"
    assert chain.state.get(b"probe/fail") is None
    assert nonce(chain, BOB) == 1 and balance(chain, BOB) == 500 - MIN_FEE


def test_end_block_writes_and_events_are_part_of_the_block() -> None:
    chain = probe_chain()
    first = run_block(chain, [])
    second = run_block(chain, [])
    assert first.end_block_events == [Event("probe", "tick", [("height", "1")])]
    assert second.end_block_events == [Event("probe", "tick", [("height", "2")])]
    assert (b"probe/blocks", codec.encode(2)) in second.writes
    assert chain.state.get(b"probe/blocks") == codec.encode(2)
    assert first.app_hash != second.app_hash


def test_tx_result_round_trip() -> None:
    result = TxResult(7, "accounts", "no", [Event("accounts", "x", [("a", "b")])], 10)
    assert TxResult.from_list(codec.decode(codec.encode(result.to_list()))) == result
    assert not result.ok and TxResult().ok


# -- app hash -----------------------------------------------------------------------


def test_same_block_gives_the_same_result() -> None:
    txs = [transfer(ALICE, 0, BOB, 9), make_tx(FAUCET, 0, "accounts", "mint", [CAROL.address, 4]),
           transfer(BOB, 3, ALICE, 1)]
    first_chain, second_chain = make_chain(), make_chain()
    assert first_chain.app_hash == second_chain.app_hash
    first = execute(first_chain, txs)
    assert execute(first_chain, txs) == first
    assert execute(second_chain, txs) == first
    assert len(first.app_hash) == 32


def test_app_hash_chains_and_changes_with_any_write() -> None:
    chain = make_chain()
    empty = execute(chain, [])
    assert empty.writes == [] and empty.app_hash != chain.app_hash
    one = execute(chain, [transfer(ALICE, 0, BOB, 1)])
    two = execute(chain, [transfer(ALICE, 0, BOB, 2)])
    fee = execute(chain, [transfer(ALICE, 0, BOB, 1, fee=MIN_FEE + 1)])
    assert len({empty.app_hash, one.app_hash, two.app_hash, fee.app_hash}) == 4
    assert compute_app_hash(b"\x00" * 32, one.writes) != compute_app_hash(b"\x01" * 32, one.writes)


writes_strategy = st.dictionaries(
    st.binary(min_size=1, max_size=6), st.one_of(st.none(), st.binary(max_size=6)),
    min_size=1, max_size=8,
).map(lambda d: sorted(d.items()))


@settings(max_examples=100, deadline=None, derandomize=True)
@given(writes_strategy, st.data())
def test_app_hash_covers_every_write(writes: list[tuple[bytes, bytes | None]],
                                     data: st.DataObject) -> None:
    previous = b"\x07" * 32
    original = compute_app_hash(previous, writes)
    assert compute_app_hash(previous, list(writes)) == original
    index = data.draw(st.integers(0, len(writes) - 1))
    key, value = writes[index]
    changed_value = b"" if value is None else (None if data.draw(st.booleans()) else value + b"!")
    variants = [
        writes[:index] + [(key, changed_value)] + writes[index + 1:],
        writes[:index] + [(key + b"!", value)] + writes[index + 1:],
        writes[:index] + writes[index + 1:],
    ]
    for variant in variants:
        assert compute_app_hash(previous, variant) != original


# -- verified ids ----------------------------------------------------------------------


def test_verified_ids_give_the_same_result_for_valid_txs() -> None:
    chain = make_chain()
    txs = [transfer(ALICE, 0, BOB, 5), transfer(BOB, 0, ALICE, 5)]
    checked = execute(chain, txs)
    trusted = execute(chain, txs, verified_ids={stx.tx_id for stx in txs})
    assert checked == trusted
    assert all(r.ok for r in checked.tx_results)


def test_without_verified_ids_bad_signatures_are_refused() -> None:
    chain = make_chain()
    forged = make_tx(BOB, 0, "accounts", "transfer", [BOB.address, 5], sender=ALICE.address)
    honest = transfer(ALICE, 0, BOB, 5)
    # Another tx's id in the set does not vouch for the forged one.
    result = execute(chain, [forged], verified_ids={honest.tx_id})
    assert result.tx_results[0].code == errors.BadSignature.code


# -- invariants ------------------------------------------------------------------------


def test_invariants_hold_over_a_run_of_blocks() -> None:
    chain = make_chain()
    run_block(chain, [transfer(ALICE, 0, BOB, 10), transfer(BOB, 0, DAVE, 20)])
    run_block(chain, [make_tx(FAUCET, 0, "accounts", "mint", [DAVE.address, 1_000])])
    run_block(chain, [make_tx(FAUCET, 1, "accounts", "burn", [500]), transfer(DAVE, 0, CAROL, 3)])
    assert chain.vm.check_invariants(chain.state) == []
    assert balance(chain, DAVE) == 20 + 1_000 - 3 - MIN_FEE


def test_invariant_checker_catches_a_broken_supply() -> None:
    chain = make_chain()
    chain.state.data[account_keys.SUPPLY_KEY] = codec.encode(12345)
    assert any("supply" in problem for problem in chain.vm.check_invariants(chain.state))
    chain.state.data.pop(b"chain/validators")
    assert any("validator" in problem for problem in chain.vm.check_invariants(chain.state))


# -- queries ---------------------------------------------------------------------------


def test_chain_queries() -> None:
    chain = make_chain()
    assert query(chain, "chain/params")["min_fee"] == MIN_FEE
    validators = query(chain, "chain/validators")
    assert validators["total_power"] == 10
    assert [v["public_key"] for v in validators["validators"]] == [VALIDATOR.public_key.hex()]
    assert validators["validators"][0]["address"] == "0x" + VALIDATOR.address.hex()
    assert len(bytes.fromhex(validators["hash"])) == 32


def test_validators_hash_depends_on_keys_and_power() -> None:
    from wattchain.modules.chain import Validator

    one = Validator(VALIDATOR.public_key, 10, "a")
    assert validators_hash([one]) == validators_hash([Validator(VALIDATOR.public_key, 10, "b")])
    assert validators_hash([one]) != validators_hash([Validator(VALIDATOR.public_key, 11, "a")])
    assert validators_hash([one]) != validators_hash([Validator(ALICE.public_key, 10, "a")])


@pytest.mark.parametrize("path", ["nope/account", "accounts/nope", "accounts", ""])
def test_unknown_query(path: str) -> None:
    chain = make_chain()
    with pytest.raises(errors.UnknownQuery, match="known"):
        query(chain, path)


# -- overlay -----------------------------------------------------------------------------


def test_overlay_reads_through_and_shadows() -> None:
    base = MemoryState({b"a/1": b"one", b"a/2": b"two", b"b/1": b"bee"})
    overlay = Overlay(base)
    assert overlay.get(b"a/1") == b"one"
    overlay.set(b"a/1", b"uno")
    overlay.delete(b"a/2")
    overlay.set(b"a/3", b"three")
    overlay.set(b"a/0", b"zero")
    overlay.delete(b"a/9")  # deleting a key that never existed
    assert overlay.get(b"a/1") == b"uno"
    assert overlay.get(b"a/2") is None
    assert overlay.get(b"a/9") is None
    assert list(overlay.iterate(b"a/")) == [(b"a/0", b"zero"), (b"a/1", b"uno"),
                                             (b"a/3", b"three")]
    assert list(overlay.iterate(b"b/")) == [(b"b/1", b"bee")]
    assert list(overlay.iterate(b"c/")) == []
    assert base.data == {b"a/1": b"one", b"a/2": b"two", b"b/1": b"bee"}
    assert overlay.sorted_writes() == [(b"a/0", b"zero"), (b"a/1", b"uno"), (b"a/2", None),
                                       (b"a/3", b"three"), (b"a/9", None)]


def test_overlay_set_after_delete_and_delete_after_set() -> None:
    overlay = Overlay(MemoryState({b"k": b"old"}))
    overlay.delete(b"k")
    overlay.set(b"k", b"new")
    assert overlay.get(b"k") == b"new"
    overlay.set(b"j", b"temp")
    overlay.delete(b"j")
    assert list(overlay.iterate(b"")) == [(b"k", b"new")]


def test_nested_overlays_and_commit_into() -> None:
    base = MemoryState({b"x": b"1", b"y": b"2"})
    block = Overlay(base)
    block.set(b"z", b"3")
    tx = Overlay(block)
    tx.delete(b"x")
    tx.set(b"z", b"33")
    tx.set(b"w", b"0")
    assert list(tx.iterate(b"")) == [(b"w", b"0"), (b"y", b"2"), (b"z", b"33")]
    assert list(block.iterate(b"")) == [(b"x", b"1"), (b"y", b"2"), (b"z", b"3")]
    tx.commit_into(block)
    assert tx.writes == {}
    assert list(tx.iterate(b"")) == list(block.iterate(b""))
    assert list(block.iterate(b"")) == [(b"w", b"0"), (b"y", b"2"), (b"z", b"33")]
    dropped = Overlay(block)
    dropped.set(b"y", b"lost")
    assert block.get(b"y") == b"2"  # never committed, so the block never sees it
    base.apply(dict(block.sorted_writes()))
    assert base.data == {b"w": b"0", b"y": b"2", b"z": b"33"}


overlay_ops = st.lists(
    st.tuples(st.sampled_from(["set", "delete", "commit"]),
              st.sampled_from([b"a", b"a/1", b"a/2", b"ab", b"b", b"b/1"]),
              st.binary(max_size=3)),
    max_size=30,
)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.dictionaries(st.sampled_from([b"a", b"a/1", b"a/3", b"b/1", b"c"]),
                       st.binary(max_size=3)), overlay_ops)
def test_overlay_matches_a_dict_model(base: dict[bytes, bytes], ops: list[Any]) -> None:
    store = MemoryState(base)
    block = Overlay(store)
    tx = Overlay(block)
    model = dict(base)
    for op, key, value in ops:
        if op == "set":
            tx.set(key, value)
            model[key] = value
        elif op == "delete":
            tx.delete(key)
            model.pop(key, None)
        else:
            tx.commit_into(block)
        for prefix in (b"", b"a", b"a/", b"b"):
            expected = sorted((k, v) for k, v in model.items() if k.startswith(prefix))
            assert list(tx.iterate(prefix)) == expected
        assert all(tx.get(k) == model.get(k) for k in (b"a", b"a/1", b"a/2", b"c", b"zz"))
    tx.commit_into(block)
    store.apply(dict(block.sorted_writes()))
    assert store.data == model


def test_tx_body_is_signed_over_chain_and_domain() -> None:
    stx = transfer(ALICE, 0, BOB, 1)
    other_chain = Tx("other", ALICE.address, 0, MIN_FEE, "accounts", "transfer",
                     [BOB.address, 1])
    assert stx.sign_digest() != other_chain.sign_digest()
