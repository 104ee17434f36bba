"""The start-up check: the tip's block, commit, results, indexes and state
agree with each other.

A node must not serve or extend a store whose records disagree; it stops
with ``StoreCorrupted`` instead (``wattchain node repair`` rebuilds what it
can). The check reads a handful of records, so it costs nothing at start.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

from wattchain.consensus.commit import verify_commit
from wattchain.consensus.messages import InvalidMessage
from wattchain.consensus.validator_set import ValidatorInfo, ValidatorSet
from wattchain.hashing import sha256
from wattchain.modules.chain import Validator, validators_hash
from wattchain.node.store import BlockStore, ChainTip
from wattchain.types import Block


def check_tip(store: BlockStore, chain_id: str, initial_height: int,
              deciders: Sequence[Validator]) -> ChainTip:
    """Return the tip once its records agree; raise StoreCorrupted otherwise.

    ``deciders``: the validator set the state says decided the tip (it must
    have signed the tip's commit and be the set the tip's header names)."""
    tip = store.tip()
    if store.app_hash(tip.height) != tip.app_hash:
        _fail(store, f"the app hash recorded for height {tip.height} is not the tip's")
    if tip.height < initial_height:
        return tip  # genesis only: no block yet
    block = store.block(tip.height)
    if block is None:
        _fail(store, f"the tip's block (height {tip.height}) is missing")
    _check_block(store, tip, block)
    _check_commit(store, tip, chain_id, deciders)
    if block.header.validators_hash != validators_hash(list(deciders)):
        _fail(store, f"the state's validator set is not the one block {tip.height} names")
    _check_results_and_index(store, tip.height, block)
    return tip


def _fail(store: BlockStore, detail: str) -> NoReturn:
    raise store.failed(detail, None, "checking the tip at start")


def _check_block(store: BlockStore, tip: ChainTip, block: Block) -> None:
    header = block.header
    if block.hash() != tip.block_hash or header.height != tip.height:
        _fail(store, f"the stored block at height {tip.height} is not the tip's block")
    if header.time_ms != tip.time_ms:
        _fail(store, f"block {tip.height}'s time is not the tip's")
    if store.height_of(tip.block_hash) != tip.height:
        _fail(store, f"the hash index does not point at block {tip.height}")
    previous = store.app_hash(tip.height - 1)
    if previous is not None and header.app_hash != previous:
        _fail(store, f"block {tip.height} names another app hash than the one recorded "
                     f"for height {tip.height - 1}")


def _check_commit(store: BlockStore, tip: ChainTip, chain_id: str,
                  deciders: Sequence[Validator]) -> None:
    commit = store.commit(tip.height)
    if commit is None:
        _fail(store, f"the commit of the tip's block (height {tip.height}) is missing")
    validator_set = ValidatorSet(ValidatorInfo(v.public_key, v.power, v.name)
                                 for v in deciders)
    try:
        verify_commit(commit, validator_set, chain_id, tip.height, tip.block_hash)
    except InvalidMessage as exc:
        _fail(store, f"the commit of block {tip.height} does not verify: {exc.message}")


def _check_results_and_index(store: BlockStore, height: int, block: Block) -> None:
    results = store.results(height)
    if results is None or len(results[0]) != len(block.txs):
        _fail(store, f"the results of block {height} are missing or incomplete")
    for raw in block.txs:
        position = store.tx_position(sha256(raw))
        if position is None or position[0] != height:
            _fail(store, f"the tx index lacks a tx of block {height}")
