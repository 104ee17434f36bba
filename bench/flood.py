"""A transfer flood against one chain's mempool, in process (no network, no RPC).

    python bench/flood.py                        # 200,000 txs from 2,000 senders
    python bench/flood.py --txs 20000 --senders 200 --block-txs 500 --pool-txs 5000

Every sender signs its transfers with consecutive nonces, except that one in
ten senders (``--gapped``) never sends its nonce 3, so its later txs wait
behind a gap. The txs arrive round robin over the senders, ``--per-height``
of them between two blocks (by default twice what a block holds), each
admitted with ``check_tx`` as RPC would; refused txs are not retried, so
they leave gaps too. With each share, and once after the flood, a fresh sender submits one
transfer; the figure that matters is how many heights it takes to be
committed. The script prints the pool size after each height, the refusals
and evictions by kind, and those latencies.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import CHAIN_ID, bench_genesis, commit_block, signed_transfers  # noqa: E402

from wattchain.crypto import PrivateKey  # noqa: E402
from wattchain.node.chain import Chain  # noqa: E402
from wattchain.node.mempool import MempoolLimits  # noqa: E402
from wattchain.types import SignedTx, Tx, sign_tx  # noqa: E402
from wattchain.vm.errors import TxError  # noqa: E402

SKIPPED_NONCE = 3  # the nonce a gapped sender never sends
VALIDATOR = PrivateKey(b"\x09" * 32)


def fresh_key(index: int) -> PrivateKey:
    """The key of the ``index``-th fresh sender (funded, no tx in the flood)."""
    return PrivateKey((0x3300_0000 + index).to_bytes(32, "big"))


@dataclass
class Probe:
    """A fresh sender's transfer, submitted after ``after_height``."""

    stx: SignedTx
    after_height: int
    error: str | None = None  # why it was refused, if it was
    height: int | None = None  # where it was committed

    @property
    def latency_heights(self) -> int | None:
        """Heights from its submission to its block (1: the next block)."""
        return None if self.height is None else self.height - self.after_height


@dataclass
class FloodResult:
    submitted: int
    admitted: int = 0
    flood_end_height: int = 0
    committed: int = 0  # txs in the blocks made during the run
    pool_by_height: list[tuple[int, int]] = field(default_factory=list)  # (height, pool size)
    refused: Counter[str] = field(default_factory=Counter)  # by error class
    evicted: Counter[str] = field(default_factory=Counter)  # by reason
    probes: list[Probe] = field(default_factory=list)  # one per flood height, then the last
    seconds: float = 0.0

    @property
    def fresh(self) -> Probe:
        """The fresh sender's transfer submitted after the flood's end."""
        return self.probes[-1]

    @property
    def fresh_latency_heights(self) -> int | None:
        return self.fresh.latency_heights

    def worst_probe_latency(self) -> int | None:
        """The most heights any fresh sender waited (None: one was never committed)."""
        latencies = [probe.latency_heights for probe in self.probes]
        return None if None in latencies else max(latency or 0 for latency in latencies)


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
    then ``drain_heights`` more blocks. A fresh sender submits one transfer
    with each share (a probe) and one more after the flood's end."""
    shares = range(0, len(txs), per_height)
    probe_keys = [fresh_key(index) for index in range(len(shares) + 1)]
    genesis = bench_genesis([*keys, *probe_keys], VALIDATOR)
    genesis.params["max_block_txs"] = block_txs
    chain = Chain(directory / "chain.db", genesis, limits)
    result = FloodResult(submitted=len(txs))
    chain.mempool.on_evict = lambda stx, reason: result.evicted.update([reason])
    started = time.perf_counter()
    try:
        for offset, probe_key in zip(shares, probe_keys, strict=False):
            for stx in txs[offset:offset + per_height]:
                try:
                    chain.check_tx(stx.raw)
                    result.admitted += 1
                except TxError as error:
                    result.refused[type(error).__name__] += 1
            _send_probe(chain, probe_key, result)
            _next_height(chain, result, progress)
        result.flood_end_height = chain.height
        _send_probe(chain, probe_keys[-1], result)
        for _ in range(drain_heights):
            _next_height(chain, result, progress)
    finally:
        result.seconds = time.perf_counter() - started
        chain.close()
    return result


def _send_probe(chain: Chain, key: PrivateKey, result: FloodResult) -> None:
    stx = sign_tx(Tx(CHAIN_ID, key.address, 0, 10, "accounts", "transfer",
                     [VALIDATOR.address, 1]), key)
    probe = Probe(stx, chain.height)
    try:
        chain.check_tx(stx.raw)
        result.admitted += 1
    except TxError as error:
        probe.error = f"{type(error).__name__}: {error.message}"
    result.probes.append(probe)


def _next_height(chain: Chain, result: FloodResult,
                 progress: Callable[[str], None] | None) -> None:
    commit_block(chain, VALIDATOR)
    block = chain.store.block(chain.height)
    result.committed += len(block.txs) if block is not None else 0
    result.pool_by_height.append((chain.height, len(chain.mempool)))
    for probe in result.probes:
        if probe.height is None and probe.error is None and chain.store.tx_position(
                probe.stx.tx_id):
            probe.height = chain.height
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
    fresh = result.fresh
    if fresh.error is not None:
        lines.append(f"fresh sender after the flood refused: {fresh.error}")
    else:
        lines.append(f"fresh sender after the flood committed {fresh.latency_heights} "
                     "height(s) later")
    lines.append("fresh senders during the flood, heights to commit: " + " ".join(
        str(probe.latency_heights) if probe.error is None else "refused"
        for probe in result.probes[:-1]))
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
    return 0 if result.worst_probe_latency() is not None else 1


if __name__ == "__main__":
    sys.exit(main())
