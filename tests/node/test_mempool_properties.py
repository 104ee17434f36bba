"""Random submissions and blocks against a small mempool: after every step
its indexes agree with its txs and the state, its limits hold, and every tx
it admitted is pooled, committed or reported evicted (exactly one of them
per admission)."""

from __future__ import annotations

import tempfile
from collections import Counter
from functools import cache
from pathlib import Path

from chain_helpers import MIN_FEE, key
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from node_helpers import commit_block, make_genesis, open_chain, transfer

from wattchain.node.chain import Chain
from wattchain.node.mempool import MempoolLimits
from wattchain.types import SignedTx
from wattchain.vm.errors import TxError

SENDERS = [key(index) for index in range(30, 34)]
NONCES = 12
LIMITS = dict(max_txs=12, max_queued_per_sender=4, max_nonce_gap=6, max_stuck_heights=2)


@cache
def signed(sender: int, nonce: int, fee_step: int, until: int) -> SignedTx:
    return transfer(SENDERS[sender], nonce, key(99).address, 1, fee=MIN_FEE * (1 + fee_step),
                    valid_until_height=until)


submit = st.tuples(st.integers(0, len(SENDERS) - 1), st.integers(0, NONCES - 1),
                   st.integers(0, 2), st.sampled_from([0, 0, 2, 4]))
steps = st.lists(st.one_of(submit, st.just("block")), max_size=60)


def check_pool(chain: Chain) -> None:
    pool = chain.mempool
    assert pool.size_bytes == sum(len(stx.raw) for stx in pool.txs.values())
    assert len(pool) <= LIMITS["max_txs"]
    queued = {stx.tx_id for queue in pool.by_sender.values() for stx in queue.txs.values()}
    assert queued == set(pool.txs)
    for sender, queue in pool.by_sender.items():
        nonce = chain.vm.ledger.get_nonce(chain.state, sender)
        assert queue.nonce == nonce and queue.txs and min(queue.txs) >= nonce
        assert all(stx.tx.sender == sender and stx.tx.nonce == n for n, stx in queue.txs.items())
        run_end = nonce
        while run_end in queue.txs:
            run_end += 1
        assert (queue.run_end, queue.top) == (run_end, max(queue.txs))
        assert (sender in pool.ready) == (run_end > nonce)
        assert (queue.gap_since is None) == (queue.top < run_end)
        assert queue.queued_ahead() <= LIMITS["max_queued_per_sender"]
        assert queue.top - nonce < LIMITS["max_nonce_gap"]
    next_nonce: dict[bytes, int] = {}
    for stx in pool.reap(100, 1 << 20):  # every reaped tx runs in order
        sender = stx.tx.sender
        expected = next_nonce.get(sender, pool.by_sender[sender].nonce)
        assert stx.tx.nonce == expected
        next_nonce[sender] = expected + 1


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_the_pool_stays_consistent_and_accounts_for_every_tx(
        plan: list[tuple[int, int, int, int] | str]) -> None:
    genesis = make_genesis(balances=[(signer, 10**9) for signer in SENDERS])
    with tempfile.TemporaryDirectory() as directory:
        chain = open_chain(Path(directory) / "db", genesis, MempoolLimits(**LIMITS))
        evicted: list[bytes] = []
        chain.mempool.on_evict = lambda stx, reason: evicted.append(stx.tx_id)
        admitted: Counter[bytes] = Counter()  # an evicted tx may be admitted again
        committed: list[bytes] = []
        try:
            for step in plan:
                if step == "block":
                    block = commit_block(chain)
                    committed.extend(stx.tx_id for stx in block.txs
                                     if isinstance(stx, SignedTx))
                    assert all(r.code == 0 for r in block.result.tx_results)
                else:
                    stx = signed(*step)
                    try:
                        chain.check_tx(stx.raw)
                        admitted[stx.tx_id] += 1
                    except TxError:
                        pass
                check_pool(chain)
            assert Counter([*committed, *evicted, *chain.mempool.txs]) == admitted
        finally:
            chain.close()
