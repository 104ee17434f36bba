"""Genesis: validation naming the bad field, state build, export -> import."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from chain_helpers import (
    ALICE,
    BOB,
    CAROL,
    CHAIN_ID,
    DAVE,
    FAUCET,
    VALIDATOR,
    account_entry,
    assert_genesis_round_trip,
    export_chain,
    import_state,
    make_chain,
    make_genesis,
    make_tx,
    run_block,
    start_chain,
    transfer,
)

from wattchain.crypto import format_address
from wattchain.genesis import (
    Genesis,
    GenesisError,
    build_genesis_state,
    export_genesis,
    genesis_app_hash_seed,
    load_genesis,
    save_genesis,
)
from wattchain.genesis.presets import DEVNET_FAUCET_BALANCE, DEVNET_GENESIS_TIME_MS, devnet_genesis
from wattchain.modules import build_vm
from wattchain.vm.execution import compute_app_hash


def devnet_json() -> dict[str, Any]:
    genesis = devnet_genesis(CHAIN_ID, [("v1", VALIDATOR.public_key, 10)], FAUCET.address)
    return copy.deepcopy(genesis.to_json())


def build(data: dict[str, Any]) -> tuple[list[tuple[bytes, bytes | None]], bytes]:
    """Parse and build a genesis document the way a node starts a chain."""
    return build_genesis_state(build_vm(), Genesis.from_json(data))


# -- the preset -------------------------------------------------------------------------


def test_devnet_preset_validates_and_builds() -> None:
    genesis = devnet_genesis(CHAIN_ID, [("v1", VALIDATOR.public_key, 10)], FAUCET.address)
    assert genesis.validate() == []
    assert genesis.genesis_time_ms == DEVNET_GENESIS_TIME_MS
    assert Genesis.from_json(genesis.to_json()) == genesis
    chain = start_chain(genesis)
    assert chain.vm.query(chain.state, "accounts/account",
                          {"address": format_address(FAUCET.address)}) == {
        "address": format_address(FAUCET.address), "balance": DEVNET_FAUCET_BALANCE,
        "nonce": 0, "roles": ["admin", "issuer"]}
    assert chain.vm.query(chain.state, "chain/params", {})["interval_ms"] == 60_000
    assert chain.vm.check_invariants(chain.state) == []


def test_genesis_app_hash_is_deterministic_and_seeded_by_chain_id() -> None:
    writes, app_hash = build(devnet_json())
    again, same_hash = build(devnet_json())
    assert (writes, app_hash) == (again, same_hash)
    assert app_hash == compute_app_hash(genesis_app_hash_seed(CHAIN_ID), writes)
    other = devnet_json()
    other["chain_id"] = "another-chain"
    other_writes, other_hash = build(other)
    assert other_writes == writes and other_hash != app_hash
    richer = devnet_json()
    richer["app_state"]["accounts"]["accounts"][0]["balance"] += 1
    assert build(richer)[1] != app_hash


# -- bad documents name the bad field ----------------------------------------------------


def with_change(path: list[Any], value: Any) -> dict[str, Any]:
    data = devnet_json()
    target = data
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return data


def with_account(entry: dict[str, Any]) -> dict[str, Any]:
    data = devnet_json()
    data["app_state"]["accounts"]["accounts"].append(entry)
    return data


GOOD_KEY = VALIDATOR.public_key.hex()
SECOND_VALIDATOR = {"name": "v2", "public_key": GOOD_KEY, "power": 5}

BAD_DOCUMENTS = {
    "chain id with capitals": (with_change(["chain_id"], "WattChain"), "chain_id"),
    "chain id empty": (with_change(["chain_id"], ""), "chain_id"),
    "chain id too long": (with_change(["chain_id"], "a" * 49), "chain_id"),
    "chain id not text": (with_change(["chain_id"], 7), "chain_id"),
    "negative genesis time": (with_change(["genesis_time_ms"], -1), "genesis_time_ms"),
    "float genesis time": (with_change(["genesis_time_ms"], 1.5), "genesis_time_ms"),
    "initial height zero": (with_change(["initial_height"], 0), "initial_height"),
    "no validators": (with_change(["validators"], []), "validators"),
    "validators not a list": (with_change(["validators"], {}), "validators"),
    "validator not an object": (with_change(["validators"], ["v1"]), r"validators\[0\]"),
    "short public key": (with_change(["validators", 0, "public_key"], GOOD_KEY[:-2]),
                         r"validators\[0\]\.public_key"),
    "uncompressed public key": (with_change(["validators", 0, "public_key"], "04" + "ab" * 64),
                                r"validators\[0\]\.public_key"),
    "non-hex public key": (with_change(["validators", 0, "public_key"], "02" + "zz" * 32),
                           r"validators\[0\]\.public_key"),
    "duplicate validator": (with_change(["validators"], [SECOND_VALIDATOR, SECOND_VALIDATOR]),
                            r"validators\[1\]: duplicate"),
    "zero power": (with_change(["validators", 0, "power"], 0), r"validators\[0\]\.power"),
    "negative power": (with_change(["validators", 0, "power"], -3), r"validators\[0\]\.power"),
    "text power": (with_change(["validators", 0, "power"], "10"), r"validators\[0\]\.power"),
    "unknown params": (with_change(["params", "block_gas"], 5), "block_gas"),
    "negative param": (with_change(["params", "min_fee"], -1), r"params\.min_fee"),
    "zero admin quorum": (with_change(["params", "admin_quorum"], 0), r"params\.admin_quorum"),
    "params not an object": (with_change(["params"], [1]), "params"),
    "unknown top-level field": (with_change(["consensus"], {}), "consensus"),
    "unknown app_state module": (with_change(["app_state", "casino"], {}), "casino"),
    "app_state not an object": (with_change(["app_state"], []), "app_state"),
    "bad account address": (with_account({"address": "0x1234", "balance": 1}),
                            r"accounts\[1\]\.address"),
    "account without address": (with_account({"balance": 1}), r"accounts\[1\]\.address"),
    "duplicate account": (with_account(account_entry(FAUCET, 1)),
                          r"accounts\[1\]: duplicate"),
    "duplicate account in upper case": (
        with_account({"address": format_address(FAUCET.address).upper().replace("0X", "0x"),
                      "balance": 1}), r"accounts\[1\]: duplicate"),
    "negative balance": (with_account(account_entry(ALICE, -1)), r"accounts\[1\]\.balance"),
    "float balance": (with_account(account_entry(ALICE, 1.0)), r"accounts\[1\]\.balance"),  # type: ignore[arg-type]
    "negative nonce": (with_account({**account_entry(ALICE, 1), "nonce": -1}),
                       r"accounts\[1\]\.nonce"),
    "unknown role": (with_account(account_entry(ALICE, 1, ["king"])), "king"),
    "account not an object": (with_account("0x" + "ab" * 20), r"accounts\[1\]"),  # type: ignore[arg-type]
    "negative fee pool": (with_change(["app_state", "accounts", "fee_pool"], -1), "fee_pool"),
    "supply beyond the maximum": (with_account(account_entry(ALICE, 1 << 63)), "supply"),
    "accounts section not an object": (with_change(["app_state", "accounts"], []),
                                       "app_state.accounts"),
}


@pytest.mark.parametrize("data, field", list(BAD_DOCUMENTS.values()), ids=list(BAD_DOCUMENTS))
def test_bad_genesis_names_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(GenesisError, match=field):
        build(data)


def test_all_problems_are_reported_together() -> None:
    data = with_change(["chain_id"], "BAD")
    data["validators"][0]["power"] = 0
    with pytest.raises(GenesisError) as caught:
        Genesis.from_json(data)
    assert "chain_id" in str(caught.value) and "power" in str(caught.value)


@pytest.mark.parametrize("missing", ["chain_id", "genesis_time_ms", "validators"])
def test_missing_required_field(missing: str) -> None:
    data = devnet_json()
    del data[missing]
    with pytest.raises(GenesisError, match=missing):
        Genesis.from_json(data)


@pytest.mark.parametrize("data", [[], "genesis", None, 5])
def test_genesis_must_be_an_object(data: Any) -> None:
    with pytest.raises(GenesisError, match="object"):
        Genesis.from_json(data)


def test_build_validates_a_document_made_in_code() -> None:
    genesis = devnet_genesis(CHAIN_ID, [], FAUCET.address)  # no validators
    with pytest.raises(GenesisError, match="validators"):
        build_genesis_state(build_vm(), genesis)
    genesis = devnet_genesis("Not A Chain Id", [("v1", VALIDATOR.public_key, 1)], FAUCET.address)
    with pytest.raises(GenesisError, match="chain_id"):
        build_genesis_state(build_vm(), genesis)


# -- export -> import -----------------------------------------------------------------------


def run_some_blocks() -> Any:
    genesis = make_genesis([account_entry(ALICE, 1_000), account_entry(BOB, 500),
                            account_entry(CAROL, 50, ["producer"])],
                           params={"admin_quorum": 2, "min_fee": 3})
    genesis.app_state["accounts"]["accounts"].append(account_entry(DAVE, 10, ["admin"]))
    chain = start_chain(genesis)
    fee = {"fee": 3}
    run_block(chain, [transfer(ALICE, 0, BOB, 100, **fee), transfer(BOB, 0, DAVE, 7, **fee)])
    run_block(chain, [make_tx(FAUCET, 0, "accounts", "mint", [CAROL.address, 900], **fee),
                      make_tx(FAUCET, 1, "accounts", "burn", [1_000], **fee)])
    # One executed grant and one pending proposal, so both shapes are exported.
    run_block(chain, [make_tx(FAUCET, 2, "accounts", "grant_role", [BOB.address, "dso"], **fee),
                      make_tx(DAVE, 0, "accounts", "grant_role", [BOB.address, "dso"], **fee),
                      make_tx(DAVE, 1, "accounts", "grant_role", [ALICE.address, "oracle"],
                              **fee)])
    assert all(r.ok for block in chain.results for r in block.tx_results)
    return chain


def test_export_then_import_reproduces_the_state() -> None:
    chain = run_some_blocks()
    exported = export_chain(chain)
    assert exported.initial_height == chain.height + 1
    assert exported.genesis_time_ms == chain.time_ms
    assert exported.validate() == []
    accounts = exported.app_state["accounts"]
    assert accounts["fee_pool"] == 7 * 3
    assert len(accounts["proposals"]) == 1
    assert exported.params["admin_quorum"] == 2 and exported.params["min_fee"] == 3

    assert assert_genesis_round_trip(chain) == exported


def test_export_of_an_import_is_the_same_document() -> None:
    chain = run_some_blocks()
    first = export_chain(chain)
    second = export_genesis(build_vm(), import_state(first), CHAIN_ID, chain.height, chain.time_ms)
    assert second.to_json() == first.to_json()
    # And through JSON text, as an operator would move it between machines.
    assert Genesis.from_json(json.loads(json.dumps(first.to_json()))) == first


def test_imported_chain_continues_like_the_original() -> None:
    chain = run_some_blocks()
    exported = export_chain(chain)
    copy_chain = start_chain(exported)
    copy_chain.height, copy_chain.time_ms = chain.height, chain.time_ms
    copy_chain.app_hash = chain.app_hash
    txs = [transfer(ALICE, 1, CAROL, 5, fee=3), make_tx(FAUCET, 3, "accounts", "grant_role",
                                                        [ALICE.address, "oracle"], fee=3)]
    original = run_block(chain, txs)
    continued = run_block(copy_chain, txs)
    assert continued == original
    assert copy_chain.state.data == chain.state.data


def test_export_of_a_fresh_chain_matches_its_genesis() -> None:
    chain = make_chain()
    exported = export_genesis(chain.vm, chain.state, CHAIN_ID, 0, chain.genesis.genesis_time_ms)
    rebuilt = start_chain(exported)
    assert rebuilt.state.data == chain.state.data
    assert rebuilt.app_hash == chain.app_hash  # same chain id, same writes
    assert [a["address"] for a in exported.app_state["accounts"]["accounts"]] == sorted(
        a["address"] for a in chain.genesis.app_state["accounts"]["accounts"])


# -- files -------------------------------------------------------------------------------------


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    chain = run_some_blocks()
    exported = export_chain(chain)
    path = tmp_path / "genesis.json"
    save_genesis(exported, path)
    assert load_genesis(path) == exported
    assert json.loads(path.read_text()) == exported.to_json()
    save_genesis(load_genesis(path), tmp_path / "again.json")
    assert (tmp_path / "again.json").read_text() == path.read_text()


def test_load_accepts_a_str_path(tmp_path: Path) -> None:
    genesis = make_genesis()
    save_genesis(genesis, tmp_path / "g.json")
    assert load_genesis(str(tmp_path / "g.json")) == genesis  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "content",
    [b"", b"{", b"not json", b"{\"chain_id\": }", b"\xff\xfe\x00garbage\x80", b"[1, 2]",
     b"{\"chain_id\": \"x\"}", b"null"],
)
def test_load_garbage_gives_genesis_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "genesis.json"
    path.write_bytes(content)
    with pytest.raises(GenesisError):
        load_genesis(path)


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(GenesisError, match="no genesis file"):
        load_genesis(tmp_path / "absent.json")


def test_load_a_directory(tmp_path: Path) -> None:
    with pytest.raises(GenesisError):
        load_genesis(tmp_path)
