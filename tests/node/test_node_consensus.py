"""The BFT engine inside the node: WAL, sign guard, crash recovery, BFT time."""

from __future__ import annotations

from pathlib import Path

import pytest
from chain_helpers import ALICE, FAUCET, VALIDATOR, transfer
from node_helpers import make_genesis, open_chain

from wattchain import codec
from wattchain.consensus.safety import STEP_PRECOMMIT, STEP_PREVOTE, DoubleSignRefused, SignedSlot
from wattchain.node.consensus_runner import ConsensusRunner
from wattchain.node.sign_guard import FileSignGuard
from wattchain.node.wal import FileWAL, encode_frame, read_frames

CLOCK_MS = 1_800_000_000_000


def clock() -> int:
    return CLOCK_MS


def make_runner(root: Path) -> ConsensusRunner:
    chain = open_chain(root / "chain.db", make_genesis())
    return ConsensusRunner(chain, VALIDATOR, FileSignGuard(root / "sign.json"), clock,
                           wal=FileWAL(root / "cs.wal"))


# -- WAL -------------------------------------------------------------------------


def test_wal_frames_round_trip_and_torn_tail_is_cut(tmp_path: Path) -> None:
    path = tmp_path / "cs.wal"
    wal = FileWAL(path)
    wal.begin_height(7)
    wal.append(b"first")
    wal.append(b"second", sync=True)
    wal.close()
    with open(path, "ab") as handle:
        handle.write(encode_frame(b"third")[:-2])  # a crash mid-write
    reopened = FileWAL(path)
    assert reopened.height == 7
    assert list(reopened.replay()) == [b"first", b"second"]
    frames, covered = read_frames(path.read_bytes())
    assert covered == path.stat().st_size  # the torn tail was cut from the file
    assert frames[1:] == [b"first", b"second"]


def test_wal_corrupt_frame_stops_replay(tmp_path: Path) -> None:
    path = tmp_path / "cs.wal"
    wal = FileWAL(path)
    wal.begin_height(3)
    wal.append(b"good")
    wal.append(b"flipped")
    wal.close()
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    assert list(FileWAL(path).replay()) == [b"good"]


def test_wal_begin_height_starts_empty(tmp_path: Path) -> None:
    wal = FileWAL(tmp_path / "cs.wal")
    wal.begin_height(1)
    wal.append(b"x")
    wal.begin_height(2)
    assert list(FileWAL(tmp_path / "cs.wal").replay()) == []
    assert FileWAL(tmp_path / "cs.wal").height == 2


# -- sign guard ---------------------------------------------------------------------


def test_file_sign_guard_survives_restart(tmp_path: Path) -> None:
    path = tmp_path / "sign.json"
    guard = FileSignGuard(path)
    guard.record(SignedSlot(5, 1, STEP_PREVOTE, b"a" * 32, b"signed prevote"))
    assert path.stat().st_mode & 0o777 == 0o600
    again = FileSignGuard(path)
    with pytest.raises(DoubleSignRefused):
        again.authorize(5, 1, STEP_PREVOTE, b"b" * 32)  # same slot, other block
    with pytest.raises(DoubleSignRefused):
        again.authorize(5, 0, STEP_PRECOMMIT, b"a" * 32)  # an earlier slot
    assert again.authorize(5, 1, STEP_PREVOTE, b"a" * 32) == b"signed prevote"
    assert again.authorize(5, 1, STEP_PRECOMMIT, b"b" * 32) is None


def test_unreadable_sign_guard_refuses_to_start(tmp_path: Path) -> None:
    path = tmp_path / "sign.json"
    path.write_text("{not json")
    with pytest.raises(RuntimeError, match="refusing to sign"):
        FileSignGuard(path)


# -- the runner ---------------------------------------------------------------------


def test_single_validator_decides_each_height_with_bft_time(tmp_path: Path) -> None:
    runner = make_runner(tmp_path)
    first = runner.start_height()
    assert first is not None and first.tip.height == 1
    genesis_time = runner.chain.genesis.genesis_time_ms
    assert first.block.header.time_ms == genesis_time + 1
    second = runner.start_height()
    assert second is not None and second.tip.height == 2
    # the block time is the (weighted median) timestamp of the parent's commit
    assert second.block.last_commit is not None
    assert second.block.header.time_ms == second.block.last_commit.signatures[0].timestamp_ms
    assert runner.chain.store.commit(2) is not None
    runner.chain.close()


def test_crash_between_precommit_and_commit_recovers_the_same_block(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = make_runner(tmp_path)
    runner.chain.check_tx(transfer(FAUCET, 0, ALICE.address, 5).raw)

    def crash(*args: object, **kwargs: object) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(runner.chain.store, "save_block", crash)
    with pytest.raises(OSError):
        runner.start_height()
    decided = [codec.decode(e, max_bytes_len=1 << 26) for e in runner.wal.replay()]
    value_block = next(item[2] for item in decided if item[0] == "value")
    monkeypatch.undo()
    runner.chain.close()

    restarted = make_runner(tmp_path)  # new process: chain, guard and WAL from disk
    assert restarted.chain.height == 0
    committed = restarted.start_height()
    assert committed is not None
    assert committed.block.encode() == value_block  # the block decided before the crash
    assert committed.result.tx_results[0].code == 0
    assert restarted.start_height() is not None  # and the chain goes on
    restarted.chain.close()


def test_runner_never_signs_an_earlier_slot_after_restart(tmp_path: Path) -> None:
    runner = make_runner(tmp_path)
    runner.start_height()
    last = runner.guard.last
    assert last is not None and last.slot == (1, 0, STEP_PRECOMMIT)
    runner.chain.close()
    restarted = make_runner(tmp_path)
    with pytest.raises(DoubleSignRefused):
        restarted.guard.authorize(1, 0, STEP_PREVOTE, b"\x01" * 32)
    restarted.chain.close()
