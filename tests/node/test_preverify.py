"""Signatures of a batch verified on several threads: the same verdicts as one
by one, each signature verified once, and blocks that execute the same."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from chain_helpers import ALICE, BOB, transfer
from node_helpers import open_chain, sign_commit

from wattchain.crypto import PrivateKey, recover_signer, recover_signers
from wattchain.errors import SignatureError
from wattchain.hashing import merkle_root, sha256
from wattchain.node.mempool import MempoolLimits
from wattchain.node.rpc import broadcast_txs
from wattchain.types import SignedTx
from wattchain.vm.errors import BadSignature


def tampered(stx: SignedTx) -> SignedTx:
    """``stx`` with a signature made by another key."""
    signature = PrivateKey(b"\x66" * 32).sign_digest(stx.sign_digest())
    return SignedTx.create(stx.tx, signature)


def test_recover_signers_on_threads_matches_one_by_one() -> None:
    key = PrivateKey(b"\x07" * 32)
    digests = [os.urandom(32) for _ in range(40)]
    items = [(key.sign_digest(d), d) for d in digests]
    items[5] = (b"\x00" * 65, digests[5])  # does not recover
    def shown(results: list[bytes | SignatureError]) -> list[bytes | str]:
        return [r if isinstance(r, bytes) else f"error: {r.message}" for r in results]

    serial = recover_signers(items, threads=1)
    assert shown(recover_signers(items, threads=3)) == shown(serial)
    assert isinstance(serial[5], SignatureError)
    assert serial[0] == recover_signer(*items[0]) == key.public_key


def test_preverified_batch_is_admitted_without_verifying_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chain = open_chain(tmp_path / "db", limits=MempoolLimits(verify_threads=2))
    good = [transfer(ALICE, nonce, BOB.address, 1) for nonce in range(10)]
    bad = tampered(transfer(BOB, 0, ALICE.address, 1))
    batch = [stx.raw for stx in good] + [bad.raw]
    chain.preverify(batch)
    verified_inline: list[bytes] = []
    original = chain.vm.verify_signature
    monkeypatch.setattr(chain.vm, "verify_signature",
                        lambda stx: verified_inline.append(stx.tx_id) or original(stx))
    for stx in good:
        assert chain.check_tx(stx.raw) == stx.tx_id
    with pytest.raises(BadSignature):
        chain.check_tx(bad.raw)
    assert verified_inline == []  # every verdict came from the batch
    assert chain.mempool.preverified == {}
    assert bad.tx_id not in chain.mempool
    chain.close()


def test_a_block_of_unpooled_txs_executes_the_same_with_threads(tmp_path: Path) -> None:
    txs = [transfer(ALICE, nonce, BOB.address, 1) for nonce in range(12)]
    txs.append(tampered(transfer(BOB, 0, ALICE.address, 1)))
    hashes = []
    for threads in (1, 2):
        source = open_chain(tmp_path / f"source{threads}", limits=MempoolLimits())
        for stx in txs[:-1]:
            source.check_tx(stx.raw)
        block = source.propose_block(source.height + 1, source.tip.time_ms + 1000,
                                     ALICE.address, None)
        block.txs.append(txs[-1].raw)  # a bad signature no mempool would have taken
        block.header.tx_root = merkle_root([sha256(raw) for raw in block.txs])
        replica = open_chain(tmp_path / f"replica{threads}",
                             limits=MempoolLimits(verify_threads=threads))
        committed = replica.finalize_and_commit(block, sign_commit(replica, block))
        codes = [result.code for result in committed.result.tx_results]
        assert codes == [0] * 12 + [BadSignature.code]
        hashes.append(committed.result.app_hash)
        source.close()
        replica.close()
    assert hashes[0] == hashes[1]


def test_broadcast_txs_of_a_json_rpc_batch() -> None:
    batch = [{"jsonrpc": "2.0", "id": 1, "method": "broadcast_tx_sync",
              "params": {"tx": "AAEC"}},
             {"jsonrpc": "2.0", "id": 2, "method": "status"},
             {"jsonrpc": "2.0", "id": 3, "method": "broadcast_tx_async",
              "params": {"tx": "not base64!"}},
             "junk"]
    assert broadcast_txs(batch) == [b"\x00\x01\x02"]
