"""The node's chain without RPC: mempool, signature cache, block store, events."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio
from chain_helpers import ALICE, BOB, FAUCET, key, make_tx, transfer
from node_helpers import (
    POOR,
    Devnet,
    commit_block,
    make_devnet,
    make_genesis,
    open_chain,
    sign_commit,
)

from wattchain.crypto import format_address
from wattchain.genesis import load_genesis
from wattchain.node.chain import Chain
from wattchain.node.config import ConfigError, save_key_file
from wattchain.node.events import EventBus, Query, QueryError
from wattchain.node.mempool import DuplicateTx, MempoolFull, MempoolLimits, NonceTaken
from wattchain.node.node import Node
from wattchain.node.store import BlockStore, StoreError
from wattchain.types import SignedTx
from wattchain.vm.errors import (
    BadNonce,
    BadSignature,
    FeeTooLow,
    InsufficientFunds,
    MalformedTx,
    WrongChainId,
)
from wattchain.vm.execution import VM

CAROL = key(9)  # no account


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[Chain]:
    chain = open_chain(tmp_path / "db")
    try:
        yield chain
    finally:
        chain.close()


def balance(chain: Chain, address: bytes) -> int:
    found = chain.vm.query(chain.state, "accounts/balance",
                           {"address": format_address(address)})
    return int(found["balance"])


def nonce(chain: Chain, address: bytes) -> int:
    found = chain.vm.query(chain.state, "accounts/account",
                           {"address": format_address(address)})
    return int(found["nonce"])


def pay(signer: Any, nonce_value: int, amount: int = 1, **options: Any) -> SignedTx:
    return transfer(signer, nonce_value, CAROL.address, amount, **options)


# -- mempool admission -----------------------------------------------------------------


def test_check_tx_admits_once_and_refuses_a_duplicate(chain: Chain) -> None:
    stx = pay(ALICE, 0)
    assert chain.check_tx(stx.raw) == stx.tx_id
    with pytest.raises(DuplicateTx):
        chain.check_tx(stx.raw)
    assert len(chain.mempool) == 1
    assert chain.mempool.size_bytes == len(stx.raw)


def test_a_second_tx_with_a_pending_nonce_is_refused(chain: Chain) -> None:
    chain.check_tx(pay(ALICE, 0, amount=1).raw)
    with pytest.raises(NonceTaken):
        chain.check_tx(pay(ALICE, 0, amount=2).raw)
    assert len(chain.mempool) == 1


def test_stale_nonce_is_refused(chain: Chain) -> None:
    chain.check_tx(pay(ALICE, 0).raw)
    commit_block(chain)
    assert nonce(chain, ALICE.address) == 1
    with pytest.raises(BadNonce):
        chain.check_tx(pay(ALICE, 0, amount=7).raw)
    assert len(chain.mempool) == 0


def test_future_nonce_is_held_and_included_once_the_gap_closes(chain: Chain) -> None:
    later = pay(ALICE, 1, amount=2)
    chain.check_tx(later.raw)
    held = commit_block(chain)
    assert held.block.txs == []
    assert later.tx_id in chain.mempool

    first = pay(ALICE, 0, amount=1)
    chain.check_tx(first.raw)
    committed = commit_block(chain)
    assert committed.block.txs == [first.raw, later.raw]
    assert [r.code for r in committed.result.tx_results] == [0, 0]
    assert len(chain.mempool) == 0
    assert nonce(chain, ALICE.address) == 2
    assert balance(chain, CAROL.address) == 3


def test_nonce_too_far_ahead_is_refused(tmp_path: Path) -> None:
    chain = open_chain(tmp_path / "db", limits=MempoolLimits(max_nonce_gap=4))
    try:
        for too_far in (5, 4):  # the limit is exclusive: a gap of exactly 4 is refused
            with pytest.raises(BadNonce, match="too far ahead"):
                chain.check_tx(pay(ALICE, too_far).raw)
        chain.check_tx(pay(ALICE, 3).raw)
        assert len(chain.mempool) == 1
    finally:
        chain.close()


def test_a_full_pool_refuses_by_count(tmp_path: Path) -> None:
    chain = open_chain(tmp_path / "db", limits=MempoolLimits(max_txs=2, max_bytes=1 << 20))
    try:
        chain.check_tx(pay(ALICE, 0).raw)
        chain.check_tx(pay(BOB, 0).raw)
        with pytest.raises(MempoolFull):
            chain.check_tx(pay(ALICE, 1).raw)
        assert len(chain.mempool) == 2
        commit_block(chain)  # the block frees the pool
        chain.check_tx(pay(ALICE, 1).raw)
    finally:
        chain.close()


def test_a_full_pool_refuses_by_bytes(tmp_path: Path) -> None:
    first, second = pay(ALICE, 0), pay(BOB, 0)
    limit = len(first.raw) + len(second.raw) - 1
    chain = open_chain(tmp_path / "db", limits=MempoolLimits(max_txs=100, max_bytes=limit))
    try:
        chain.check_tx(first.raw)
        with pytest.raises(MempoolFull):
            chain.check_tx(second.raw)
        assert chain.mempool.size_bytes == len(first.raw)
        assert second.tx_id not in chain.mempool
    finally:
        chain.close()


def test_bad_signature_is_refused(chain: Chain) -> None:
    forged = make_tx(BOB, 0, "accounts", "transfer", [CAROL.address, 5], sender=ALICE.address)
    with pytest.raises(BadSignature):
        chain.check_tx(forged.raw)
    honest = pay(ALICE, 0)
    tampered = SignedTx.create(honest.tx, honest.signature[:10] + bytes([honest.signature[10] ^ 1])
                               + honest.signature[11:])
    with pytest.raises(BadSignature):
        chain.check_tx(tampered.raw)
    assert len(chain.mempool) == 0


@pytest.mark.parametrize("signer", [POOR, CAROL], ids=["below-fee", "no-account"])
def test_a_sender_that_cannot_pay_the_fee_is_refused(chain: Chain, signer: Any) -> None:
    with pytest.raises(InsufficientFunds):
        chain.check_tx(make_tx(signer, 0, "accounts", "transfer", [ALICE.address, 1]).raw)
    assert len(chain.mempool) == 0


@pytest.mark.parametrize(
    ("raw_of", "error"),
    [
        (lambda: b"\x93junk", MalformedTx),
        (lambda: pay(ALICE, 0, chain_id="other-chain").raw, WrongChainId),
        (lambda: pay(ALICE, 0, fee=1).raw, FeeTooLow),
    ],
    ids=["malformed", "wrong-chain", "fee-too-low"],
)
def test_other_invalid_txs_are_refused(chain: Chain, raw_of: Any, error: type) -> None:
    with pytest.raises(error):
        chain.check_tx(raw_of())
    assert len(chain.mempool) == 0


# -- reap and update ---------------------------------------------------------------------


def test_reap_respects_max_txs_and_max_bytes(chain: Chain) -> None:
    txs = [pay(ALICE, n) for n in range(5)]
    for stx in txs:
        chain.check_tx(stx.raw)
    assert chain.mempool.reap(3, 1 << 20) == txs[:3]
    two = len(txs[0].raw) + len(txs[1].raw)
    assert chain.mempool.reap(100, two) == txs[:2]
    assert chain.mempool.reap(100, two - 1) == txs[:1]
    assert chain.mempool.reap(0, 1 << 20) == []
    assert len(chain.mempool) == 5  # reaping removes nothing


def test_reap_orders_each_sender_by_nonce_whatever_the_arrival(chain: Chain) -> None:
    a0, a1, a2 = (pay(ALICE, n) for n in range(3))
    b0, b1 = (pay(BOB, n) for n in range(2))
    b3 = pay(BOB, 3)  # behind a gap: not runnable
    for stx in (a2, b1, b0, a0, b3, a1):
        chain.check_tx(stx.raw)
    reaped = chain.mempool.reap(100, 1 << 20)
    assert reaped == [b0, a0, b1, a1, a2]  # round-robin: bob became ready first
    committed = commit_block(chain)
    assert [r.code for r in committed.result.tx_results] == [0] * 5
    assert list(chain.mempool.txs) == [b3.tx_id]


def test_update_drops_committed_stale_and_expired_txs(tmp_path: Path) -> None:
    mine = open_chain(tmp_path / "mine")
    other = open_chain(tmp_path / "other")
    try:
        alice_mine, alice_next = pay(ALICE, 0, amount=1), pay(ALICE, 1, amount=1)
        shared = pay(BOB, 0)
        expiring = pay(FAUCET, 0, valid_until_height=1)
        for stx in (alice_mine, alice_next, shared, expiring):
            mine.check_tx(stx.raw)
        alice_theirs = pay(ALICE, 0, amount=9)  # takes nonce 0 in another proposer's block
        other.check_tx(alice_theirs.raw)
        other.check_tx(shared.raw)
        block = other.propose_block(1, other.tip.time_ms + 1_000, BOB.address, None)
        assert block.txs == [alice_theirs.raw, shared.raw]

        mine.finalize_and_commit(block, sign_commit(mine, block))
        # shared was committed, alice_mine went stale, expiring can no longer be included
        assert list(mine.mempool.txs) == [alice_next.tx_id]
        assert mine.mempool.size_bytes == len(alice_next.raw)
        assert list(mine.mempool.by_sender) == [ALICE.address]
        assert balance(mine, CAROL.address) == 9 + 1

        committed = commit_block(mine)
        assert committed.block.txs == [alice_next.raw]
        assert len(mine.mempool) == 0
        assert mine.mempool.size_bytes == 0
        assert mine.mempool.by_sender == {}
        assert nonce(mine, FAUCET.address) == 0
    finally:
        mine.close()
        other.close()


def test_a_held_tx_that_expires_is_dropped(chain: Chain) -> None:
    late = pay(ALICE, 1, valid_until_height=1)  # waits behind nonce 0, which never comes
    chain.check_tx(late.raw)
    chain.check_tx(pay(BOB, 0).raw)
    committed = commit_block(chain)
    assert len(committed.block.txs) == 1
    assert len(chain.mempool) == 0


# -- each signature verified once --------------------------------------------------------


def test_each_signature_is_verified_once(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    verified: list[bytes] = []
    original = VM.verify_signature

    def counting(self: VM, stx: SignedTx) -> None:
        verified.append(stx.tx_id)
        original(self, stx)

    monkeypatch.setattr(VM, "verify_signature", counting)
    mine = open_chain(tmp_path / "mine")
    other = open_chain(tmp_path / "other")
    try:
        # A block from another proposer: its txs are not in this pool, so they
        # are verified (once) while the block executes.
        foreign = [pay(FAUCET, 0), pay(FAUCET, 1)]
        for stx in foreign:
            other.check_tx(stx.raw)
        block = other.propose_block(1, other.tip.time_ms + 1_000, BOB.address, None)
        verified.clear()
        mine.finalize_and_commit(block, sign_commit(mine, block))
        assert verified == [stx.tx_id for stx in foreign]

        # Txs that came through this pool are verified on entry, never again.
        verified.clear()
        txs = [pay(ALICE, 0), pay(ALICE, 1), pay(BOB, 0)]
        for stx in txs:
            mine.check_tx(stx.raw)
        assert verified == [stx.tx_id for stx in txs]
        committed = commit_block(mine)
        assert [r.code for r in committed.result.tx_results] == [0, 0, 0]
        assert verified == [stx.tx_id for stx in txs]
    finally:
        mine.close()
        other.close()


# -- persistence -----------------------------------------------------------------------


@pytest.fixture
def devnet(tmp_path: Path) -> Devnet:
    return make_devnet(tmp_path / "home")


def test_a_reopened_chain_has_the_same_blocks_state_and_txs(devnet: Devnet) -> None:
    node = Node(devnet.home)
    sent: list[SignedTx] = []
    try:
        for height in (1, 2, 3):
            for recipient in (ALICE, BOB):
                stx = devnet.transfer(len(sent), recipient.address, 100 * height)
                node.submit_tx(stx.raw)
                sent.append(stx)
            committed = node.produce_block()
            assert committed.tip.height == height
            assert [r.code for r in committed.result.tx_results] == [0, 0]
        node.produce_block()  # an empty block on top
        chain = node.chain
        tip = chain.tip
        blocks = {h: chain.store.block_bytes(h) for h in range(1, tip.height + 1)}
        balances = {k.address: balance(chain, k.address)
                    for k in (ALICE, BOB, devnet.faucet)}
        supply = chain.vm.query(chain.state, "accounts/supply", {})
    finally:
        node.chain.close()
    assert balances[ALICE.address] == 600
    assert balances[BOB.address] == 600

    reopened = Chain(devnet.home.db_path, load_genesis(devnet.home.genesis_file))
    try:
        assert reopened.tip == tip
        assert reopened.height == 4
        assert reopened.store.app_hash(4) == tip.app_hash
        assert {h: reopened.store.block_bytes(h) for h in blocks} == blocks
        assert {a: balance(reopened, a) for a in balances} == balances
        assert reopened.vm.query(reopened.state, "accounts/supply", {}) == supply
        for index, stx in enumerate(sent):
            assert reopened.store.tx_position(stx.tx_id) == (index // 2 + 1, index % 2)
        assert reopened.vm.check_invariants(reopened.state) == []
    finally:
        reopened.close()

    node = Node(devnet.home)  # a restarted node goes on from the tip
    try:
        assert node.last_commit is not None and node.last_commit.height == 4
        fifth = node.produce_block()
        assert fifth.block.header.prev_block_hash == tip.block_hash
        assert fifth.block.header.app_hash == tip.app_hash
        assert fifth.block.last_commit == node.chain.store.commit(4)
    finally:
        node.chain.close()


def test_opening_with_a_different_genesis_raises_store_error(tmp_path: Path) -> None:
    path = tmp_path / "db"
    open_chain(path).close()
    with pytest.raises(StoreError, match="different genesis") as caught:
        open_chain(path, make_genesis(chain_id="another-chain"))
    # The failed open released the database, even while its traceback lives on.
    chain = open_chain(path)
    chain.close()
    assert caught.traceback


def test_a_node_refused_for_its_validator_key_releases_the_database(devnet: Devnet) -> None:
    key_file = devnet.home.validator_key_file
    original = key_file.read_text()
    save_key_file(key_file, key(42))  # not a validator of this genesis
    with pytest.raises(ConfigError, match="2/3 of the voting power") as caught:
        Node(devnet.home)
    key_file.write_text(original)
    node = Node(devnet.home)
    node.chain.close()
    assert caught.traceback


def test_save_block_is_all_or_nothing(devnet: Devnet, monkeypatch: pytest.MonkeyPatch) -> None:
    node = Node(devnet.home)
    try:
        chain = node.chain
        stx = devnet.transfer(0, ALICE.address, 1_000)
        node.submit_tx(stx.raw)
        before_tip = chain.store.tip()
        before_balance = balance(chain, ALICE.address)
        before_keys = sum(1 for _ in chain.store.db.iterator())

        def explode(*args: Any) -> None:
            raise RuntimeError("disk on fire")

        # _index_txs runs inside the write batch, after the state and block puts.
        monkeypatch.setattr(BlockStore, "_index_txs", explode)
        with pytest.raises(RuntimeError, match="disk on fire"):
            node.produce_block()
        assert chain.store.tip() == before_tip
        assert chain.tip == before_tip
        assert chain.store.block(1) is None
        assert chain.store.commit(1) is None
        assert chain.store.results(1) is None
        assert chain.store.tx_position(stx.tx_id) is None
        assert balance(chain, ALICE.address) == before_balance
        assert sum(1 for _ in chain.store.db.iterator()) == before_keys
        assert stx.tx_id in chain.mempool

        monkeypatch.undo()
        committed = node.produce_block()
        assert committed.tip.height == 1
        assert chain.store.tx_position(stx.tx_id) == (1, 0)
        assert balance(chain, ALICE.address) == before_balance + 1_000
    finally:
        node.chain.close()


# -- queries and the event bus --------------------------------------------------------------


def test_query_parse() -> None:
    query = Query.parse("tm.event='Tx' AND tx.sender='0xab' AND accounts.transfer.amount>=100")
    assert [(c.key, c.operator, c.value) for c in query.conditions] == [
        ("tm.event", "=", "Tx"), ("tx.sender", "=", "0xab"),
        ("accounts.transfer.amount", ">=", 100),
    ]
    assert query.equal_value("tx.sender") == "0xab"
    assert query.equal_value("accounts.transfer.amount") is None
    assert Query.parse("  tx.height < -3 ").conditions[0].value == -3
    assert Query.parse("a.b.c='with spaces = and <'").conditions[0].value == "with spaces = and <"


@pytest.mark.parametrize("text", [
    "", "   ", "tm.event", "tm.event=Tx", "tm.event=='Tx'", "tm.event='Tx' AND",
    "tm.event='Tx' OR tx.height=1", "x=1.5", " AND ".join(["a=1"] * 9), None, 5,
])
def test_query_parse_refuses_bad_text(text: Any) -> None:
    with pytest.raises(QueryError):
        Query.parse(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("tm.event='Tx'", True),
    ("tm.event='NewBlock'", False),
    ("tm.event!='NewBlock'", True),
    ("accounts.transfer.amount=100", True),
    ("accounts.transfer.amount>100", True),  # any of the values may match
    ("accounts.transfer.amount>250", False),
    ("accounts.transfer.amount<=100", True),
    ("accounts.transfer.amount<100", False),
    ("tx.height>=7 AND tx.height<8", True),
    ("tx.height=7 AND tm.event='NewBlock'", False),
    ("tx.sender=7", False),  # a number never equals a non-numeric value
    ("missing.key='x'", False),
    ("tx.sender='0xab'", True),
])
def test_query_matches(text: str, expected: bool) -> None:
    tags = {"tm.event": ["Tx"], "tx.height": ["7"], "tx.sender": ["0xab"],
            "accounts.transfer.amount": ["100", "200"]}
    assert Query.parse(text).matches(tags) is expected


async def test_event_bus_delivers_only_to_matching_subscriptions() -> None:
    bus = EventBus()
    assert not bus.active
    blocks, block_events = bus.subscribe(Query.parse("tm.event='NewBlock'"))
    txs, tx_events = bus.subscribe(Query.parse("tm.event='Tx' AND tx.sender='0xab'"))
    assert bus.active
    bus.publish({"tm.event": ["NewBlock"], "block.height": ["1"]}, {"height": 1})
    bus.publish({"tm.event": ["Tx"], "tx.sender": ["0xcd"]}, {"hash": "other"})
    bus.publish({"tm.event": ["Tx"], "tx.sender": ["0xab"]}, {"hash": "mine"})
    assert block_events.receive_nowait() == {
        "query": "tm.event='NewBlock'", "data": {"height": 1},
        "events": {"tm.event": ["NewBlock"], "block.height": ["1"]}}
    with pytest.raises(trio.WouldBlock):
        block_events.receive_nowait()
    assert tx_events.receive_nowait()["data"] == {"hash": "mine"}
    with pytest.raises(trio.WouldBlock):
        tx_events.receive_nowait()
    bus.unsubscribe(txs)
    assert bus.subscriptions == [blocks]
    with pytest.raises(trio.EndOfChannel):
        tx_events.receive_nowait()


async def test_event_bus_drops_a_slow_subscriber() -> None:
    bus = EventBus(buffer=2)
    slow, slow_events = bus.subscribe(Query.parse("tm.event='NewBlock'"))
    fast, fast_events = bus.subscribe(Query.parse("tm.event='NewBlock'"))
    for height in (1, 2, 3):
        bus.publish({"tm.event": ["NewBlock"]}, {"height": height})
        assert fast_events.receive_nowait()["data"] == {"height": height}
    assert slow.dropped and not fast.dropped
    assert bus.subscriptions == [fast]
    assert [slow_events.receive_nowait()["data"]["height"] for _ in range(2)] == [1, 2]
    with pytest.raises(trio.EndOfChannel):
        slow_events.receive_nowait()
    bus.publish({"tm.event": ["NewBlock"]}, {"height": 4})  # publishing goes on
    assert fast_events.receive_nowait()["data"] == {"height": 4}
