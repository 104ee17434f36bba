"""The mempool's rules against wedging (issue 15): the per-sender queue, the
exclusive nonce gap, eviction of stuck txs, eviction when full, round-robin
reaping, and the TxEvicted events and metrics of every eviction."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chain_helpers import MIN_FEE, key
from node_helpers import (
    ALICE,
    BOB,
    Devnet,
    commit_block,
    make_devnet,
    make_genesis,
    open_chain,
    running_node,
    sign_commit,
    transfer,
    websocket_client,
)

from wattchain.crypto import format_address
from wattchain.node.chain import Chain
from wattchain.node.config import ConfigError, NodeConfig
from wattchain.node.mempool import (
    MempoolFull,
    MempoolLimits,
    SenderQueueFull,
)
from wattchain.node.node import Node
from wattchain.types import SignedTx
from wattchain.vm.errors import BadNonce

SENDERS = [key(index) for index in range(10, 20)]  # funded, like alice and bob
CAROL = SENDERS[0]  # the fresh sender of these tests
RECIPIENT = key(99).address


def pay(signer: Any, nonce: int, fee: int = MIN_FEE, **options: Any) -> SignedTx:
    return transfer(signer, nonce, RECIPIENT, 1, fee=fee, **options)


class Evictions(list[tuple[bytes, str]]):
    """(tx id, reason) of every eviction, as the node's callback sees them."""

    def __call__(self, stx: SignedTx, reason: str) -> None:
        self.append((stx.tx_id, reason))


def pool(tmp_path: Path, params: dict[str, Any] | None = None,
         **limits: Any) -> tuple[Chain, Evictions]:
    genesis = make_genesis(params=params, balances=[(signer, 10**9) for signer in
                                                    (ALICE, BOB, *SENDERS)])
    chain = open_chain(tmp_path / "db", genesis, MempoolLimits(**limits))
    evictions = Evictions()
    chain.mempool.on_evict = evictions
    return chain, evictions


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[Chain]:
    chain, _ = pool(tmp_path)
    yield chain
    chain.close()


def admit(chain: Chain, *txs: SignedTx) -> None:
    for stx in txs:
        chain.check_tx(stx.raw)


# -- the per-sender queue and the nonce gap ------------------------------------------------


def test_a_sender_queues_at_most_16_ahead_of_its_account_nonce(chain: Chain) -> None:
    admit(chain, *(pay(ALICE, n) for n in range(17)))  # the next nonce and 16 ahead
    with pytest.raises(SenderQueueFull, match="16 transactions waiting"):
        chain.check_tx(pay(ALICE, 17).raw)
    assert len(chain.mempool) == 17
    admit(chain, pay(BOB, 0))  # other senders are not affected
    commit_block(chain)  # the block runs 0..16: alice may queue again
    admit(chain, *(pay(ALICE, n) for n in range(17, 34)))


def test_the_nonce_gap_limit_is_exclusive_and_17_by_default(chain: Chain) -> None:
    with pytest.raises(BadNonce, match="too far ahead"):
        chain.check_tx(pay(ALICE, 17).raw)  # a gap of exactly the limit
    admit(chain, pay(ALICE, 16))
    assert len(chain.mempool) == 1


def test_an_account_with_its_own_limit_queues_further(tmp_path: Path) -> None:
    chain, _ = pool(tmp_path, sender_limits={ALICE.address: 40})
    try:
        admit(chain, pay(ALICE, 40))  # its nonce gap grows with its queue
        admit(chain, *(pay(ALICE, n) for n in range(40)))
        with pytest.raises(SenderQueueFull, match="at most 40"):
            chain.check_tx(pay(ALICE, 41).raw)
        with pytest.raises(BadNonce):
            chain.check_tx(pay(BOB, 17).raw)  # everyone else keeps the defaults
    finally:
        chain.close()


# -- stuck txs ---------------------------------------------------------------------------------


def test_txs_behind_a_gap_are_evicted_after_max_stuck_heights(tmp_path: Path) -> None:
    chain, evictions = pool(tmp_path, max_stuck_heights=3)
    try:
        stuck = [pay(ALICE, 1), pay(ALICE, 2)]  # nonce 0 never comes
        admit(chain, *stuck, pay(BOB, 1))
        commit_block(chain)
        admit(chain, pay(BOB, 0))  # bob's gap closes in time
        commit_block(chain)
        assert len(chain.mempool) == 2 and evictions == []
        commit_block(chain)  # the gap has now been open for 3 heights
        assert len(chain.mempool) == 0
        assert sorted(evictions) == sorted((stx.tx_id, "stuck") for stx in stuck)
    finally:
        chain.close()


def test_only_the_txs_above_the_gap_are_evicted(tmp_path: Path) -> None:
    chain, evictions = pool(tmp_path, max_stuck_heights=1,
                            params={"max_block_txs": 1})
    try:
        runnable, stuck = [pay(ALICE, 0), pay(ALICE, 1)], pay(ALICE, 3)
        admit(chain, *runnable, stuck)
        commit_block(chain)  # runs alice 0 only
        assert evictions == [(stuck.tx_id, "stuck")]
        assert list(chain.mempool.txs) == [runnable[1].tx_id]
    finally:
        chain.close()


# -- a full pool -------------------------------------------------------------------------------


def test_a_full_pool_evicts_a_stuck_tx_for_a_fresh_senders_tx(tmp_path: Path) -> None:
    chain, evictions = pool(tmp_path, max_txs=3)
    try:
        stuck = pay(ALICE, 1, fee=1_000)  # even a high fee does not save a stuck tx
        admit(chain, stuck, pay(BOB, 0), pay(BOB, 1))
        fresh = pay(CAROL, 0)
        admit(chain, fresh)
        assert evictions == [(stuck.tx_id, "displaced")]
        assert fresh.tx_id in chain.mempool and len(chain.mempool) == 3
    finally:
        chain.close()


def test_a_full_pool_evicts_the_lowest_fee(tmp_path: Path) -> None:
    chain, evictions = pool(tmp_path, max_txs=2)
    try:
        cheap = pay(BOB, 0, fee=MIN_FEE)
        admit(chain, pay(ALICE, 0, fee=3 * MIN_FEE), cheap)
        admit(chain, pay(CAROL, 0, fee=2 * MIN_FEE))
        assert evictions == [(cheap.tx_id, "displaced")]
    finally:
        chain.close()


def test_at_equal_fees_a_full_pool_evicts_the_deepest_tx(tmp_path: Path) -> None:
    chain, evictions = pool(tmp_path, max_txs=4)
    try:
        alice = [pay(ALICE, n) for n in range(3)]
        others = [pay(BOB, 0), pay(CAROL, 0), pay(SENDERS[1], 0)]
        admit(chain, *alice, others[0])
        admit(chain, others[1])  # depth 0 beats alice's depth 2
        assert evictions == [(alice[2].tx_id, "displaced")]
        admit(chain, others[2])  # and then alice's depth 1
        assert evictions[-1] == (alice[1].tx_id, "displaced")
        assert set(chain.mempool.txs) == {stx.tx_id for stx in (alice[0], *others)}
    finally:
        chain.close()


def test_a_tx_that_beats_nothing_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    chain, evictions = pool(tmp_path, max_txs=2)
    try:
        pending = [pay(ALICE, 0), pay(BOB, 0)]  # both runnable, at the minimum fee
        admit(chain, *pending)
        for refused in (pay(CAROL, 0), pay(CAROL, 1, fee=100 * MIN_FEE), pay(ALICE, 1)):
            with pytest.raises(MempoolFull):
                chain.check_tx(refused.raw)
        assert list(chain.mempool.txs) == [stx.tx_id for stx in pending]
        assert evictions == []
        assert chain.mempool.size_bytes == sum(len(stx.raw) for stx in pending)
    finally:
        chain.close()


def test_a_senders_own_queue_is_never_cut_for_its_next_tx(tmp_path: Path) -> None:
    chain, evictions = pool(tmp_path, max_txs=2)
    try:
        admit(chain, pay(ALICE, 0), pay(ALICE, 1))
        with pytest.raises(MempoolFull):
            chain.check_tx(pay(ALICE, 2, fee=100 * MIN_FEE).raw)
        assert evictions == []
    finally:
        chain.close()


def test_a_pool_full_by_bytes_evicts_too(tmp_path: Path) -> None:
    stuck, runnable, fresh = pay(ALICE, 1), pay(BOB, 0), pay(CAROL, 0)
    chain, evictions = pool(tmp_path, max_bytes=len(stuck.raw) + len(runnable.raw))
    try:
        admit(chain, stuck, runnable, fresh)
        assert evictions == [(stuck.tx_id, "displaced")]
        assert chain.mempool.size_bytes == len(runnable.raw) + len(fresh.raw)
    finally:
        chain.close()


# -- reaping -----------------------------------------------------------------------------------


def test_reap_serves_a_fresh_sender_before_long_queues(tmp_path: Path) -> None:
    chain, _ = pool(tmp_path, params={"max_block_txs": 4})
    try:
        admit(chain, *(pay(ALICE, n) for n in range(10)), *(pay(BOB, n) for n in range(10)))
        fresh = pay(CAROL, 0)
        admit(chain, fresh)
        committed = commit_block(chain)
        assert fresh.raw in committed.block.txs
        assert [r.code for r in committed.result.tx_results] == [0] * 4
    finally:
        chain.close()


# -- other evictions ---------------------------------------------------------------------------


def test_txs_whose_nonce_another_block_used_or_that_expired_are_evicted(tmp_path: Path) -> None:
    mine, evictions = pool(tmp_path / "mine")
    other, _ = pool(tmp_path / "other")
    try:
        replaced, expiring = pay(ALICE, 0), pay(BOB, 0, valid_until_height=1)
        admit(mine, replaced, expiring)
        theirs = pay(ALICE, 0, fee=2 * MIN_FEE)  # same nonce, another tx
        admit(other, theirs)
        block = other.propose_block(1, other.tip.time_ms + 1_000, BOB.address, None)
        mine.finalize_and_commit(block, sign_commit(mine, block))
        assert evictions == [(replaced.tx_id, "nonce_used"), (expiring.tx_id, "expired")]
        assert len(mine.mempool) == 0
    finally:
        mine.close()
        other.close()


# -- the node: events, metrics, config ----------------------------------------------------------


def stuck_devnet(tmp_path: Path) -> Devnet:
    def configure(config: NodeConfig) -> None:
        config.mempool.max_stuck_heights = 1

    return make_devnet(tmp_path / "home", configure)


async def test_an_eviction_is_published_to_subscribers_and_counted(tmp_path: Path) -> None:
    devnet = stuck_devnet(tmp_path)
    stuck = devnet.transfer(1, ALICE.address, 5)  # nonce 0 never comes
    faucet = format_address(devnet.faucet.address)
    async with running_node(devnet) as node, websocket_client(node) as ws:
        answer = await ws.request("subscribe", query="tm.event='TxEvicted'")
        assert answer["result"] == {}
        subscription = ws.next_id
        check = await ws.request("broadcast_tx_sync",
                                 tx=base64.b64encode(stuck.raw).decode())
        assert check["result"]["code"] == 0
        node.produce_block()
        event = await ws.receive()
        assert event["id"] == subscription
        assert event["result"]["data"] == {"hash": stuck.tx_id.hex(), "sender": faucet,
                                           "nonce": 1, "reason": "stuck", "height": 2}
        assert event["result"]["events"]["evicted.reason"] == ["stuck"]
        assert event["result"]["events"]["tx.hash"] == [stuck.tx_id.hex()]
        metrics = node.metrics.render().decode()
        assert 'wattchain_mempool_evicted_txs_total{reason="stuck"} 1.0' in metrics


def test_the_node_takes_the_mempool_section_of_its_config(tmp_path: Path) -> None:
    gateway = format_address(ALICE.address)

    def configure(config: NodeConfig) -> None:
        config.mempool.max_queued_per_sender = 8
        config.mempool.sender_limits = {gateway: 500}

    devnet = make_devnet(tmp_path / "home", configure)
    text = devnet.home.config_file.read_text()
    assert "[mempool.sender_limits]" in text and gateway in text
    node = Node(devnet.home)
    try:
        limits = node.mempool.limits
        assert (limits.max_queued_per_sender, limits.max_nonce_gap) == (8, 17)
        assert limits.sender_limits == {ALICE.address: 500}
        assert limits.max_stuck_heights == 10
    finally:
        node.chain.close()


@pytest.mark.parametrize(("section", "error"), [
    ({"sender_limits": {"0x12": 5}}, "40 hex digits"),
    ({"sender_limits": {format_address(ALICE.address): -1}}, "non-negative"),
    ({"sender_limits": 5}, "must be a table"),
    ({"max_stuck_heights": 0}, "at least 1"),
    ({"max_nonce_gap": 0}, "at least 1"),
])
def test_bad_mempool_settings_are_refused(section: dict[str, Any], error: str) -> None:
    with pytest.raises(ConfigError, match=error):
        NodeConfig.from_dict({"mempool": section})


def test_preverify_skips_txs_the_sender_has_no_room_for(tmp_path: Path) -> None:
    chain, _ = pool(tmp_path, verify_threads=2)
    try:
        batch = [pay(ALICE, n) for n in range(30)]
        chain.preverify([stx.raw for stx in batch])  # nonce 17 and up would be refused
        assert set(chain.mempool.preverified) == {stx.tx_id for stx in batch[:17]}
    finally:
        chain.close()
