"""The node's application: vm + store + mempool behind the consensus interface
(``consensus.application.Application``).

This object owns every piece of chain state in the process. It is not
thread-safe: only the node's trio thread calls it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Container
from dataclasses import dataclass
from pathlib import Path

from wattchain.consensus.application import InvalidBlock
from wattchain.errors import DecodeError, WattchainError
from wattchain.genesis import Genesis, build_genesis_state
from wattchain.hashing import merkle_root, sha256
from wattchain.modules import build_vm
from wattchain.modules.chain import Validator, load_validators, validators_hash
from wattchain.modules.chain.evidence import verify_evidence
from wattchain.modules.chain.keeper import validators_since
from wattchain.modules.chain.keys import LAST_VALIDATORS_KEY
from wattchain.node.block_sizer import BlockSizer
from wattchain.node.integrity import check_tip
from wattchain.node.mempool import Mempool, MempoolLimits
from wattchain.node.store import BlockStore, ChainTip
from wattchain.types import Block, Commit, Header, SignedTx
from wattchain.vm.execution import BlockInfo, BlockResult
from wattchain.vm.params import ChainParams, load_params

__all__ = ["Chain", "CommittedBlock", "InvalidBlock", "VerifiedIds", "genesis_hash"]

log = logging.getLogger("wattchain.chain")


MAX_BLOCK_EVIDENCE = 100


@dataclass(slots=True)
class CommittedBlock:
    """A block as committed: its txs decoded (raw bytes for a malformed one),
    what executing it did, and the new tip."""

    block: Block
    txs: list[SignedTx | bytes]
    result: BlockResult
    tip: ChainTip


class VerifiedIds:
    """Tx ids whose signatures this node has verified: the mempool's and a block's."""

    __slots__ = ("pooled", "checked")

    def __init__(self, pooled: Container[bytes], checked: set[bytes]) -> None:
        self.pooled = pooled
        self.checked = checked

    def __contains__(self, tx_id: object) -> bool:
        return tx_id in self.pooled or tx_id in self.checked


def genesis_hash(genesis: Genesis) -> bytes:
    return sha256(json.dumps(genesis.to_json(), sort_keys=True).encode())


class Chain:
    def __init__(self, db_path: Path, genesis: Genesis,
                 mempool_limits: MempoolLimits | None = None,
                 block_budget_ms: int | None = None) -> None:
        """``block_budget_ms``: cap proposals at what executes and commits in this
        long (``BlockSizer``); None proposes up to ``max_block_txs`` always."""
        self.genesis = genesis
        self.chain_id = genesis.chain_id
        self.vm = build_vm()
        self.store = BlockStore(db_path)
        self.state = self.store.state
        self.mempool = Mempool(self.vm, mempool_limits)
        self.sizer = BlockSizer(block_budget_ms) if block_budget_ms is not None else None
        try:
            self._open(genesis)
        except BaseException:
            self.store.close()  # release the LevelDB lock even while the error is held
            raise

    def _open(self, genesis: Genesis) -> None:
        """Write the genesis state into a new store, or check that the store was
        made from this genesis; then load the tip once its block, commit,
        results, index and validator set agree (StoreCorrupted otherwise)."""
        if not self.store.is_initialised():
            writes, app_hash = build_genesis_state(self.vm, genesis)
            self.store.init_genesis(genesis_hash(genesis), writes, app_hash,
                                    genesis.initial_height, genesis.genesis_time_ms)
        else:
            self.store.init_genesis(genesis_hash(genesis), [], b"", 0, 0)  # checks the match
        self.tip = self.store.tip()
        self.params: ChainParams = load_params(self.state)
        self._set_high_water()
        self._load_validators()
        self.tip = check_tip(self.store, self.chain_id, genesis.initial_height,
                             self.validators_of_last_height())
        self.last_commit: Commit | None = self.store.commit(self.tip.height)

    def _load_validators(self) -> None:
        self.validators: list[Validator] = load_validators(self.state)
        self.validators_since = validators_since(self.state)
        self.last_validators = load_validators(self.state, LAST_VALIDATORS_KEY)

    def validators_of_last_height(self) -> list[Validator]:
        """The set that decided the tip (it signed the tip's commit)."""
        if self.tip.height < self.validators_since and self.last_validators:
            return self.last_validators
        return self.validators

    def close(self) -> None:
        self.store.close()

    @property
    def height(self) -> int:
        return self.tip.height

    def next_block_info(self, time_ms: int | None = None, proposer: bytes = b"") -> BlockInfo:
        return BlockInfo(self.chain_id, self.tip.height + 1,
                         time_ms if time_ms is not None else self.tip.time_ms + 1, proposer)

    # -- Application --------------------------------------------------------------

    def check_tx(self, raw: bytes) -> bytes:
        stx = self.mempool.check_tx(raw, self.state, self.next_block_info(), self.params)
        return stx.tx_id

    def preverify(self, raws: list[bytes]) -> None:
        """Verify a batch's signatures ahead of its check_tx calls (Mempool.preverify)."""
        self.mempool.preverify(raws, self.state, self.params)

    def propose_block(self, height: int, time_ms: int, proposer: bytes,
                      last_commit: Commit | None, evidence: list[bytes] | None = None) -> Block:
        txs = self.mempool.reap(self.block_cap(), self.params.max_block_bytes)
        header = Header(
            chain_id=self.chain_id,
            height=height,
            time_ms=time_ms,
            proposer=proposer,
            prev_block_hash=self.tip.block_hash,
            tx_root=merkle_root([stx.tx_id for stx in txs]),
            app_hash=self.tip.app_hash,
            validators_hash=validators_hash(self.validators),
            last_commit_hash=last_commit.hash() if last_commit is not None else b"",
        )
        return Block(header, [stx.raw for stx in txs], last_commit, list(evidence or []))

    def block_cap(self) -> int:
        """How many txs this node proposes at most now (local timing may lower it;
        ``validate_proposal`` checks only the protocol's ``max_block_txs``)."""
        if self.sizer is None:
            return self.params.max_block_txs
        return self.sizer.cap(self.params.max_block_txs)

    def _set_high_water(self) -> None:
        """The mempool size at which RPC refuses txs as busy (``rpc_admission``)."""
        max_pool = self.mempool.limits.max_txs
        if self.sizer is None:
            self.mempool.high_water = max_pool * 8 // 10
        else:
            self.mempool.high_water = self.sizer.high_water(max_pool)

    def validate_proposal(self, block: Block, expected_time_ms: int | None = None) -> None:
        """Raise InvalidBlock unless ``block`` may follow the tip. The caller checks
        the last commit's signatures (it knows the validator set that made it)."""
        header = block.header
        if expected_time_ms is not None and header.time_ms != expected_time_ms:
            raise InvalidBlock(f"block {header.height}: time {header.time_ms} is not the BFT "
                               f"time {expected_time_ms}")
        expected = {
            "chain id": (header.chain_id, self.chain_id),
            "height": (header.height, self.tip.height + 1),
            "previous block hash": (header.prev_block_hash, self.tip.block_hash),
            "app hash": (header.app_hash, self.tip.app_hash),
            "validators hash": (header.validators_hash, validators_hash(self.validators)),
        }
        for name, (got, want) in expected.items():
            if got != want:
                raise InvalidBlock(f"block {header.height}: wrong {name}")
        if header.time_ms <= self.tip.time_ms:
            raise InvalidBlock(f"block {header.height}: time does not advance")
        if len(block.txs) > self.params.max_block_txs:
            raise InvalidBlock(f"block {header.height}: too many transactions")
        if sum(len(raw) for raw in block.txs) > self.params.max_block_bytes:
            raise InvalidBlock(f"block {header.height}: too many bytes")
        last_commit_hash = block.last_commit.hash() if block.last_commit is not None else b""
        if header.last_commit_hash != last_commit_hash:
            raise InvalidBlock(f"block {header.height}: last commit hash mismatch")
        if len(block.evidence) > MAX_BLOCK_EVIDENCE:
            raise InvalidBlock(f"block {header.height}: too much evidence")

    def check_evidence(self, raw: bytes) -> None:
        """Raise InvalidBlock unless ``raw`` is verifiable equivocation evidence."""
        try:
            verify_evidence(raw, self.chain_id, self.validators)
        except WattchainError as exc:
            raise InvalidBlock(f"invalid evidence: {exc.message}") from None

    def finalize_and_commit(self, block: Block, commit: Commit) -> CommittedBlock:
        """Execute ``block`` and persist it with ``commit`` in one atomic batch."""
        started = time.perf_counter()
        tx_ids = [sha256(raw) for raw in block.txs]
        if block.header.tx_root != merkle_root(tx_ids):
            raise InvalidBlock(f"block {block.header.height}: tx root mismatch")
        txs = self._decode_block_txs(block, tx_ids)
        info = BlockInfo(self.chain_id, block.header.height, block.header.time_ms,
                         block.header.proposer)
        verified = VerifiedIds(self.mempool.txs, self._verify_unpooled(txs))
        result = self.vm.process_block(self.state, info, txs, self.tip.app_hash,
                                       verified_ids=verified, evidence=block.evidence)
        self.tip = self.store.save_block(block, txs, result, commit)
        self.last_commit = commit
        self.mempool.update(txs, self.state, self.tip.height + 1)
        if any(key.startswith(b"chain/") for key, _ in result.writes):
            self.params = load_params(self.state)
            self._load_validators()
        if self.sizer is not None:
            finished = time.perf_counter()
            self.sizer.record(len(txs), finished - started)
            self.sizer.record_commit(len(txs), finished)
            self._set_high_water()
        return CommittedBlock(block, txs, result, self.tip)

    def _verify_unpooled(self, txs: list[SignedTx | bytes]) -> set[bytes]:
        """Ids of the block's txs that were not in the mempool (block sync, a tx
        gossip has not brought yet) whose signatures verify, checked on
        ``verify_threads`` threads. The vm verifies the rest itself: a bad
        signature fails there as it always does."""
        threads = self.mempool.limits.verify_threads
        pool = self.mempool.txs
        unpooled = [stx for stx in txs if isinstance(stx, SignedTx) and stx.tx_id not in pool]
        if threads <= 1 or len(unpooled) < 2 * threads:
            return set()
        verdicts = self.vm.verify_signatures(unpooled, threads)
        return {stx.tx_id for stx, verdict in zip(unpooled, verdicts, strict=True)
                if verdict is None}

    def _decode_block_txs(self, block: Block, tx_ids: list[bytes]) -> list[SignedTx | bytes]:
        """Decoded txs, from the mempool's cache where possible. A tx that does
        not decode stays raw bytes: the vm records it as malformed."""
        txs: list[SignedTx | bytes] = []
        pool = self.mempool.txs
        for raw, tx_id in zip(block.txs, tx_ids, strict=True):
            cached = pool.get(tx_id)
            if cached is None:
                try:
                    cached = SignedTx.decode(raw, self.params.max_tx_bytes)
                except DecodeError:
                    txs.append(raw)
                    continue
            txs.append(cached)
        return txs

    # -- views ----------------------------------------------------------------------

    def validator_json(self) -> list[dict[str, object]]:
        return [v.to_json() for v in self.validators]
