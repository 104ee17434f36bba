"""Storage integrity: per kind of damage (WAL, block store, state, index) on a
real store written by a real chain, what the node does at start and while
running, what ``check_home`` finds and whether ``repair_home`` repairs it or
refuses with a clear message."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import trio
from node_helpers import make_devnet, rpc_client, running_node
from store_damage import (
    Built,
    block_key,
    build_home,
    change_balance,
    copy_home,
    delete_key,
    flip_block_bytes,
    garbage_in_middle,
    garbage_tail,
    read_store,
    settle,
    tear_tail,
    tx_index_key,
    wal_with_frames,
)

from wattchain.genesis import load_genesis
from wattchain.node.chain import Chain
from wattchain.node.leveldb_files import tables_holding
from wattchain.node.node import Node
from wattchain.node.peer_blocks import PeerBlocks
from wattchain.node.store import StoreCorrupted
from wattchain.node.store_repair import BlocksMissing, Findings, check_home, repair_home
from wattchain.node.wal import FileWAL, WalDamaged


@pytest.fixture
def built(tmp_path: Path) -> Built:
    return build_home(tmp_path / "home")


def genesis(built: Built):  # type: ignore[no-untyped-def]
    return load_genesis(built.devnet.home.genesis_file)


def check(built: Built) -> Findings:
    return check_home(built.devnet.home, genesis(built))


def repair(built: Built) -> Findings:
    return repair_home(built.devnet.home, genesis(built))


def open_chain(built: Built) -> Chain:
    return Chain(built.db, genesis(built))


def assert_starts(built: Built) -> None:
    """A node opens the home and its tip is the built one."""
    node = Node(built.devnet.home)
    try:
        assert node.chain.height == built.tip
    finally:
        node.runner.wal.close()
        node.chain.close()


def assert_intact_with_recorded_app_hashes(built: Built) -> None:
    assert check(built).damage == {}
    store = read_store(built)
    try:
        assert {h: store.app_hash(h) for h in built.app_hashes} == built.app_hashes
    finally:
        store.close()


# -- an intact store -------------------------------------------------------------------


def test_an_intact_store_checks_clean_and_needs_no_repair(built: Built) -> None:
    settle(built.db)
    assert check(built).damage == {}
    before = sorted(p.name for p in built.db.glob("*.ldb"))
    assert repair(built).damage == {}
    assert sorted(p.name for p in built.db.glob("*.ldb")) == before  # not swapped
    assert not list(built.db.parent.glob("*.damaged*"))
    assert_starts(built)


# -- LevelDB files -----------------------------------------------------------------------


def test_a_damaged_leveldb_log_refuses_to_open_and_names_the_file(built: Built) -> None:
    """Paranoid checks: a flipped byte in LevelDB's own log (the newest blocks)
    stops the open; without them LevelDB dropped the records silently."""
    (log,) = built.db.glob("*.log")
    needle = built.txs[built.tip][0].signature[:32]
    data = bytearray(log.read_bytes())
    at = data.find(needle)
    assert at >= 0
    data[at + 8] ^= 0xFF
    log.write_bytes(bytes(data))
    with pytest.raises(StoreCorrupted) as caught:
        open_chain(built)
    assert log.name in str(caught.value)
    assert "node repair" in caught.value.advice(built.devnet.home.root)


def test_a_flipped_byte_in_a_block_table_is_found_and_named(built: Built) -> None:
    settle(built.db)
    table = flip_block_bytes(built, 2)
    assert tables_holding(built.db, block_key(2)) == [table]
    chain = open_chain(built)  # the tip is intact: the node starts
    try:
        with pytest.raises(StoreCorrupted) as caught:
            chain.store.block(2)
        assert table in str(caught.value)
        assert chain.store.failure is caught.value
    finally:
        chain.close()
    findings = check(built)
    assert "missing or damaged at heights 2" in findings.damage["blocks"][0]
    with pytest.raises(BlocksMissing) as refused:
        repair(built)
    assert refused.value.heights == [2]
    assert "--peer" in refused.value.advice(built.devnet.home.root)
    assert check(built).damage == findings.damage  # nothing was changed


def test_a_flipped_byte_in_the_tips_block_stops_the_start(built: Built) -> None:
    settle(built.db)
    table = flip_block_bytes(built, built.tip)
    with pytest.raises(StoreCorrupted) as caught:
        Node(built.devnet.home)
    assert table in str(caught.value)


async def test_corruption_met_while_running_stops_the_node(built: Built) -> None:
    settle(built.db)
    flip_block_bytes(built, 3)
    node_seen: list[Node] = []
    with pytest.raises(BaseException) as caught:  # noqa: PT011 - a group, checked below
        with trio.fail_after(10):
            async with running_node(built.devnet) as node:
                node_seen.append(node)
                async with rpc_client(node) as client:
                    error = await client.error("block", height=3)
                    assert error["code"] < 0
                await trio.sleep_forever()  # the node must stop by itself
    failures = caught.value.subgroup(StoreCorrupted) if isinstance(
        caught.value, BaseExceptionGroup) else caught.value
    assert failures is not None, caught.value
    (node,) = node_seen
    assert node.storage_failure is not None and "block 3" in str(node.storage_failure)


def test_a_store_that_failed_refuses_every_later_write(built: Built) -> None:
    settle(built.db)
    flip_block_bytes(built, 3)
    node = Node(built.devnet.home)
    try:
        with pytest.raises(StoreCorrupted):
            node.chain.store.block(3)
        sent = sum(len(txs) for txs in built.txs.values())
        node.submit_tx(built.devnet.transfer(sent, b"\x01" * 20, 1).raw)
        with pytest.raises(StoreCorrupted):
            node.produce_block()
        assert node.chain.store.tip().height == built.tip
    finally:
        node.runner.wal.close()
        node.chain.close()


# -- the block store ---------------------------------------------------------------------


def test_a_deleted_block_is_refused_without_a_peer(built: Built) -> None:
    delete_key(built, block_key(4))
    assert_starts(built)  # not the tip: found by the scan, not at start
    assert check(built).damage["blocks"] == ["missing or damaged at heights 4"]
    with pytest.raises(BlocksMissing) as refused:
        repair(built)
    assert "heights 4 " in str(refused.value)


async def test_a_deleted_block_is_fetched_from_a_peer(built: Built, tmp_path: Path) -> None:
    peer = copy_home(built, tmp_path / "peer")
    delete_key(built, block_key(4))
    settle(built.db)
    flip_block_bytes(built, 2)
    async with running_node(peer) as peer_node:
        def fetch_and_repair() -> Findings:
            with PeerBlocks([peer_node.rpc_urls[0]]) as fetch:
                return repair_home(built.devnet.home, genesis(built), fetch)

        findings = await trio.to_thread.run_sync(fetch_and_repair)
    assert "fetched from peers: heights 2, 4" in findings.notes
    assert_intact_with_recorded_app_hashes(built)
    assert_starts(built)


def test_a_missing_commit_at_the_tip_stops_the_start(built: Built) -> None:
    delete_key(built, b"C" + built.tip.to_bytes(8, "big"))
    with pytest.raises(StoreCorrupted, match="commit of the tip"):
        open_chain(built)


# -- state --------------------------------------------------------------------------------


def test_a_changed_state_key_is_found_and_rebuilt_by_replay(built: Built) -> None:
    key = change_balance(built)
    findings = check(built)
    assert list(findings.damage) == ["state"]
    assert repr(key[:24]) in findings.damage["state"][0]
    done = repair(built)
    assert list(done.damage) == ["state"]
    assert_intact_with_recorded_app_hashes(built)
    assert list(built.db.parent.glob("chain.db.damaged"))  # the old one is kept


# -- indexes -------------------------------------------------------------------------------


def test_a_deleted_tx_index_entry_of_the_tip_stops_the_start_and_is_rebuilt(
        built: Built) -> None:
    delete_key(built, tx_index_key(built.txs[built.tip][1]))
    with pytest.raises(StoreCorrupted, match="tx index"):
        open_chain(built)
    assert list(check(built).damage) == ["index"]
    assert list(repair(built).damage) == ["index"]
    assert_intact_with_recorded_app_hashes(built)
    assert_starts(built)


def test_a_deleted_older_tx_index_entry_is_found_and_rebuilt(built: Built) -> None:
    key = tx_index_key(built.txs[2][0])
    delete_key(built, key)
    assert_starts(built)  # not the tip's: found by the scan, not at start
    assert check(built).damage == {"index": [f"missing {key[:24]!r}"]}
    repair(built)
    assert_intact_with_recorded_app_hashes(built)


# -- the consensus WAL ----------------------------------------------------------------------


@pytest.mark.parametrize("damage", [tear_tail, garbage_tail], ids=["torn", "garbage"])
def test_a_damaged_wal_tail_is_cut_at_open(tmp_path: Path, damage) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "consensus.wal"
    wal_with_frames(path, count=4)
    damage(path)
    wal = FileWAL(path)
    wal.close()
    assert wal.height == 99 and len(wal.entries) in (3, 4)


def test_garbage_in_the_middle_of_the_wal_refuses_the_start_and_repair_moves_it(
        tmp_path: Path) -> None:
    devnet = make_devnet(tmp_path / "home")
    wal = devnet.home.wal_file
    wal.parent.mkdir(parents=True, exist_ok=True)
    wal_with_frames(wal, count=4)
    offset = garbage_in_middle(wal)
    with pytest.raises(WalDamaged) as caught:
        Node(devnet.home)
    assert str(wal) in str(caught.value) and f"byte {offset}" in str(caught.value)
    built = Built(devnet, 0)
    assert list(check(built).damage) == ["wal"]
    assert list(repair(built).damage) == ["wal"]
    assert not wal.exists() and wal.with_name(wal.name + ".damaged").exists()
    assert_starts(built)


def test_a_torn_wal_tail_is_a_note_not_damage(built: Built) -> None:
    wal = built.devnet.home.wal_file
    size = wal.stat().st_size
    with open(wal, "ab") as handle:
        handle.write(os.urandom(3))
    findings = check(built)
    assert findings.damage == {} and any("torn tail" in note for note in findings.notes)
    assert repair(built).damage == {"wal": ["cut a torn tail"]}
    assert wal.stat().st_size == size
