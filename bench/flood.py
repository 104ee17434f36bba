"""A transfer flood against one chain's mempool, in process (no network, no RPC).

    python bench/flood.py                        # 200,000 txs from 2,000 senders
    python bench/flood.py --txs 20000 --senders 200 --block-txs 500 --pool-txs 5000

Every sender signs its transfers with consecutive nonces, except that one in
ten senders (``--gapped``) never sends its nonce 3, so its later txs wait
behind a gap. The txs arrive round robin over the senders, ``--per-height``
of them between two blocks (by default twice what a block holds), each
admitted with ``check_tx`` as RPC would; refused txs are not retried, so
they leave gaps too. After the flood a fresh sender submits one transfer;
the figure that matters is how many heights it takes to be committed. The
script prints the pool size after each height, the refusals and evictions
by kind, and that latency.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import CHAIN_ID, bench_genesis, commit_block, signed_transfers  # noqa: E402

from wattchain.crypto import PrivateKey  # noqa: E402
from wattchain.node.chain import Chain  # noqa: E402
from wattchain.node.mempool import MempoolLimits  # noqa: E402
from wattchain.types import SignedTx, Tx, sign_tx  # noqa: E402
from wattchain.vm.errors import TxError  # noqa: E402

SKIPPED_NONCE = 3  # the nonce a gapped sender never sends
VALIDATOR = PrivateKey(b"\x09" * 32)
FRESH = PrivateKey(b"\x33" * 32)


@dataclass
class FloodResult:
    submitted: int
    admitted: int
    flood_end_height: int
    committed: int = 0  # txs in the blocks made during the run
    pool_by_height: list[tuple[int, int]] = field(default_factory=list)  # (height, pool size)
    refused: Counter[str] = field(default_factory=Counter)  # by error class
    evicted: Counter[str] = field(default_factory=Counter)  # by reason
    fresh_error: str | None = None  # why the fresh sender's tx was refused, if it was
    fresh_height: int | None = None  # where it was committed
    seconds: float = 0.0

    @property
    def fresh_latency_heights(self) -> int | None:
        """Heights from the flood's end to the fresh tx's block (1: the next one)."""
        if self.fresh_height is None:
            return None
        return self.fresh_height - self.flood_end_height

    def to_json(self) -> dict[str, Any]:
        return {"submitted": self.submitted, "admitted": self.admitted,
                "committed": self.committed,
                "flood_end_height": self.flood_end_height,
                "fresh_latency_heights": self.fresh_latency_heights,
                "fresh_error": self.fresh_error, "refused": dict(self.refused),
                "evicted": dict(self.evicted), "pool_by_height": self.pool_by_height,
                "seconds": round(self.seconds, 1)}


def flood_txs(count: int, senders: int, gapped_share: float) -> tuple[list[SignedTx],
                                                                      list[PrivateKey]]:
    """Round-robin transfers; the first ``gapped_share`` of the senders skip a nonce."""
    txs, keys = signed_transfers(count, senders)
    gapped = {key.address for key in keys[:round(senders * gapped_share)]}
    kept = [stx for stx in txs
            if not (stx.tx.nonce == SKIPPED_NONCE and stx.tx.sender in gapped)]
    return kept, keys


def run_flood(directory: Path, txs: list[SignedTx], keys: list[PrivateKey], *,
              per_height: int, block_txs: int, limits: MempoolLimits,
              drain_heights: int = 15,
              progress: Callable[[str], None] | None = None) -> FloodResult:
    """Submit ``txs`` ``per_height`` at a time with a block after each share,
    then a fresh sender's transfer, then ``drain_heights`` more blocks."""
    genesis = bench_genesis([*keys, FRESH], VALIDATOR)
    genesis.params["max_block_txs"] = block_txs
    chain = Chain(directory / "chain.db", genesis, limits)
    result = FloodResult(submitted=len(txs), admitted=0, flood_end_height=0)
    chain.mempool.on_evict = lambda stx, reason: result.evicted.update([reason])
    started = time.perf_counter()
    try:
        for offset in range(0, len(txs), per_height):
            for stx in txs[offset:offset + per_height]:
                try:
                    chain.check_tx(stx.raw)
                    result.admitted += 1
                except TxError as error:
                    result.refused[type(error).__name__] += 1
            _next_height(chain, result, progress)
        result.flood_end_height = chain.height
        fresh = sign_tx(Tx(CHAIN_ID, FRESH.address, 0, 10, "accounts", "transfer",
                           [VALIDATOR.address, 1]), FRESH)
        try:
            chain.check_tx(fresh.raw)
        except TxError as error:
            result.fresh_error = f"{type(error).__name__}: {error.message}"
        for _ in range(drain_heights):
            _next_height(chain, result, progress)
            if result.fresh_height is None and chain.store.tx_position(fresh.tx_id):
                result.fresh_height = chain.height
    finally:
        result.seconds = time.perf_counter() - started
        chain.close()
    return result


def _next_height(chain: Chain, result: FloodResult,
                 progress: Callable[[str], None] | None) -> None:
    commit_block(chain, VALIDATOR)
    block = chain.store.block(chain.height)
    result.committed += len(block.txs) if block is not None else 0
    result.pool_by_height.append((chain.height, len(chain.mempool)))
    if progress is not None:
        progress(f"height {chain.height}: pool {len(chain.mempool):,}")


def report(result: FloodResult) -> str:
    lines = [f"{result.submitted:,} txs submitted, {result.admitted:,} admitted, "
             f"{result.committed:,} committed; flood over at height "
             f"{result.flood_end_height} ({result.seconds:.0f} s)",
             "refused: " + ", ".join(f"{k} {v:,}" for k, v in sorted(result.refused.items())),
             "evicted: " + ", ".join(f"{k} {v:,}" for k, v in sorted(result.evicted.items())),
             "pool size after each height: " + " ".join(
                 f"{height}:{size}" for height, size in result.pool_by_height)]
    if result.fresh_error is not None:
        lines.append(f"fresh sender refused: {result.fresh_error}")
    else:
        lines.append(f"fresh sender committed {result.fresh_latency_heights} height(s) "
                     "after the flood's end")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--txs", type=int, default=200_000)
    parser.add_argument("--senders", type=int, default=2_000)
    parser.add_argument("--gapped", type=float, default=0.1, help="share of senders with a gap")
    parser.add_argument("--block-txs", type=int, default=5_000)
    parser.add_argument("--per-height", type=int, help="arrivals per height (2 blocks' worth)")
    parser.add_argument("--pool-txs", type=int, default=MempoolLimits().max_txs)
    args = parser.parse_args(argv)
    txs, keys = flood_txs(args.txs, args.senders, args.gapped)
    with tempfile.TemporaryDirectory() as directory:
        result = run_flood(Path(directory), txs, keys,
                           per_height=args.per_height or 2 * args.block_txs,
                           block_txs=args.block_txs,
                           limits=MempoolLimits(max_txs=args.pool_txs),
                           progress=lambda line: print(line, file=sys.stderr))
    print(report(result))
    return 0 if result.fresh_latency_heights is not None else 1


if __name__ == "__main__":
    sys.exit(main())
