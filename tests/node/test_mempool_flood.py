"""The flood of issue 15 at the chain level, scaled down ten times: 20,000
transfers from 200 senders, one in ten leaving a nonce gap, arriving at twice
what a block of 500 holds, into a pool of 5,000 (and a tight one of 2,000).
`bench/flood.py` runs the full 200,000 (see its docstring)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from flood import FloodResult, flood_txs, run_flood  # noqa: E402

from wattchain.crypto import PrivateKey  # noqa: E402
from wattchain.node.mempool import MempoolLimits  # noqa: E402
from wattchain.types import SignedTx  # noqa: E402

BLOCK_TXS = 500


@pytest.fixture(scope="module")
def flood() -> tuple[list[SignedTx], list[PrivateKey]]:
    return flood_txs(20_000, 200, 0.1)


@pytest.mark.parametrize("pool_txs", [5_000, 2_000])
def test_after_a_flood_a_fresh_sender_is_committed_within_3_heights(
        tmp_path: Path, flood: tuple[list[SignedTx], list[PrivateKey]], pool_txs: int) -> None:
    txs, keys = flood
    result: FloodResult = run_flood(tmp_path, txs, keys, per_height=2 * BLOCK_TXS,
                                    block_txs=BLOCK_TXS,
                                    limits=MempoolLimits(max_txs=pool_txs))
    assert result.fresh.error is None
    assert result.fresh_latency_heights is not None and result.fresh_latency_heights <= 3
    # a fresh sender who joins in the middle of the flood is not held back either
    worst = result.worst_probe_latency()
    assert worst is not None and worst <= 3
    # nothing stays wedged: the pool empties once the flood is over
    assert result.pool_by_height[-1][1] == 0
    assert result.evicted["stuck"] > 0
    # every admitted tx was committed or its eviction reported
    assert result.admitted == result.committed + sum(result.evicted.values())
