"""The chain module: validator governance (effective two heights later) and
equivocation evidence recorded on chain."""

from __future__ import annotations

from chain_helpers import (
    ALICE,
    FAUCET,
    VALIDATOR,
    assert_genesis_round_trip,
    key,
    make_chain,
    make_tx,
    query,
    run_block,
)

from wattchain.consensus.messages import Evidence
from wattchain.crypto import PrivateKey
from wattchain.types import VOTE_PREVOTE, Vote

NEW_VALIDATOR = key(40)


def set_validator(signer: PrivateKey, nonce: int, public_key: bytes, power: int,
                  name: str = "dso-east") -> object:
    return make_tx(signer, nonce, "chain", "set_validator", [public_key, power, name])


def powers(chain: object) -> dict[str, int]:
    return {v["address"]: v["power"] for v in query(chain, "chain/validators")["validators"]}


def test_validator_update_takes_effect_two_heights_later() -> None:
    chain = make_chain()
    result = run_block(chain, [set_validator(FAUCET, 0, NEW_VALIDATOR.public_key, 5)])
    assert result.tx_results[0].code == 0, result.tx_results[0].log
    new_address = "0x" + NEW_VALIDATOR.address.hex()
    assert new_address not in powers(chain)  # block 1: not yet
    pending = query(chain, "chain/pending_validators")["pending"]
    assert pending[0]["effective_height"] == 3
    run_block(chain, [])  # end of block 2: the set that decides height 3 changes
    assert powers(chain)[new_address] == 5
    assert query(chain, "chain/pending_validators")["pending"] == []


def test_remove_and_reweight_validators() -> None:
    chain = make_chain()
    run_block(chain, [set_validator(FAUCET, 0, NEW_VALIDATOR.public_key, 5)])
    run_block(chain, [set_validator(FAUCET, 1, VALIDATOR.public_key, 20, "utility-a")])
    run_block(chain, [set_validator(FAUCET, 2, NEW_VALIDATOR.public_key, 0)])
    run_block(chain, [])
    assert powers(chain) == {"0x" + VALIDATOR.address.hex(): 20}


def test_set_validator_refusals_change_nothing() -> None:
    chain = make_chain()
    before = powers(chain)
    cases = [
        (set_validator(ALICE, 0, NEW_VALIDATOR.public_key, 5), "chain", 101),  # not admin
        (set_validator(FAUCET, 0, NEW_VALIDATOR.public_key, 0), "chain", 103),  # unknown
        (set_validator(FAUCET, 1, VALIDATOR.public_key, 0), "chain", 102),  # empty set
        (set_validator(FAUCET, 2, b"\x05" * 33, 5), "vm", 12),  # not a public key
        (set_validator(FAUCET, 3, NEW_VALIDATOR.public_key, -1), "vm", 12),
    ]
    for tx, codespace, code in cases:
        result = run_block(chain, [tx]).tx_results[0]
        assert (result.codespace, result.code) == (codespace, code), result.log
    run_block(chain, [])
    run_block(chain, [])
    assert powers(chain) == before
    assert query(chain, "chain/pending_validators")["pending"] == []


def test_validator_change_needs_the_admin_quorum() -> None:
    from chain_helpers import account_entry

    second_admin = key(41)
    chain = make_chain([account_entry(second_admin, 1_000, ["admin"])],
                       params={"admin_quorum": 2})
    run_block(chain, [set_validator(FAUCET, 0, NEW_VALIDATOR.public_key, 5)])
    assert query(chain, "chain/pending_validators")["pending"] == []
    assert query(chain, "accounts/proposals")["proposals"][0]["action"] == "set_validator"
    run_block(chain, [set_validator(second_admin, 0, NEW_VALIDATOR.public_key, 5)])
    assert query(chain, "chain/pending_validators")["pending"][0]["effective_height"] == 4


def signed_vote(signer: PrivateKey, block_hash: bytes, chain_id: str = "wattchain-test") -> Vote:
    vote = Vote(VOTE_PREVOTE, 3, 0, block_hash, 1_000, signer.address)
    vote.signature = signer.sign_digest(vote.sign_digest(chain_id))
    return vote


def run_with_evidence(chain: object, evidence: list[bytes]) -> object:
    from chain_helpers import next_block_info

    result = chain.vm.process_block(chain.state, next_block_info(chain), [], chain.app_hash,
                                    evidence=evidence)
    chain.state.apply(dict(result.writes))
    chain.height += 1
    chain.app_hash = result.app_hash
    return result


def test_equivocation_evidence_is_recorded_once() -> None:
    chain = make_chain()
    evidence = Evidence(signed_vote(VALIDATOR, b"\x01" * 32), signed_vote(VALIDATOR, b"\x02" * 32))
    raw = evidence.encode()
    result = run_with_evidence(chain, [raw, raw])
    kinds = [e.kind for e in result.end_block_events]
    assert kinds.count("equivocation") == 1
    recorded = query(chain, "chain/evidence")["evidence"]
    assert [(r["validator"], r["height"]) for r in recorded] == [
        ("0x" + VALIDATOR.address.hex(), 3)]
    run_with_evidence(chain, [raw])
    assert len(query(chain, "chain/evidence")["evidence"]) == 1


def test_invalid_evidence_is_ignored() -> None:
    chain = make_chain()
    same = Evidence(signed_vote(VALIDATOR, b"\x01" * 32), signed_vote(VALIDATOR, b"\x01" * 32))
    stranger = Evidence(signed_vote(ALICE, b"\x01" * 32), signed_vote(ALICE, b"\x02" * 32))
    forged_vote = signed_vote(ALICE, b"\x02" * 32)
    forged_vote.validator = VALIDATOR.address
    forged = Evidence(signed_vote(VALIDATOR, b"\x01" * 32), forged_vote)
    other_chain = Evidence(signed_vote(VALIDATOR, b"\x01" * 32, "other-chain"),
                           signed_vote(VALIDATOR, b"\x02" * 32, "other-chain"))
    items = [e.encode() for e in (same, stranger, forged, other_chain)] + [b"\x93junk"]
    before = dict(chain.state.data)
    result = run_with_evidence(chain, items)
    assert result.end_block_events == []
    assert query(chain, "chain/evidence")["evidence"] == []
    assert {k: v for k, v in chain.state.data.items() if k.startswith(b"chain/")} == {
        k: v for k, v in before.items() if k.startswith(b"chain/")}


def test_export_import_round_trips_validator_history_pending_and_evidence() -> None:
    chain = make_chain()
    run_block(chain, [set_validator(FAUCET, 0, NEW_VALIDATOR.public_key, 5)])
    evidence = Evidence(signed_vote(VALIDATOR, b"\x01" * 32), signed_vote(VALIDATOR, b"\x02" * 32))
    run_with_evidence(chain, [evidence.encode()])  # block 2 ends: the first update applies
    run_block(chain, [set_validator(FAUCET, 1, NEW_VALIDATOR.public_key, 7)])  # pending
    assert query(chain, "chain/pending_validators")["pending"][0]["effective_height"] == 5
    exported = assert_genesis_round_trip(chain)
    assert exported.app_state["chain"]["validators_since"] == 3
