"""The mempool: verified transactions waiting for a block.

* bounded by count and bytes; a full pool refuses new txs with a clear error;
* each signature is verified once, on entry; the block executes the tx with
  ``verified_ids`` so it is never verified again;
* duplicates (same tx id) and stale nonces are refused; nonces ahead of the
  account are held (up to ``max_nonce_gap``) until the gap closes;
* ``reap`` returns txs in arrival order, each sender's in nonce order;
* ``update`` after every block drops what was committed and what went stale.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from wattchain.hashing import sha256
from wattchain.types import SignedTx
from wattchain.vm.errors import BadNonce, BadSignature, InsufficientFunds, TxError
from wattchain.vm.execution import VM, BlockInfo
from wattchain.vm.params import ChainParams
from wattchain.vm.state import StateReader


class MempoolError(TxError):
    codespace = "mempool"
    code = 20


class MempoolFull(MempoolError):
    code = 21


class DuplicateTx(MempoolError):
    code = 22


class NonceTaken(MempoolError):
    code = 23


@dataclass(slots=True)
class MempoolLimits:
    max_txs: int = 50_000
    max_bytes: int = 64 * 1024 * 1024
    max_nonce_gap: int = 10_000  # how far ahead of its account nonce a sender may queue
    verify_threads: int = 1  # threads that verify the signatures of a batch (preverify)


class Mempool:
    def __init__(self, vm: VM, limits: MempoolLimits | None = None) -> None:
        self.vm = vm
        self.limits = limits or MempoolLimits()
        self.txs: dict[bytes, SignedTx] = {}  # tx id -> tx, in arrival order
        self.by_sender: dict[bytes, dict[int, bytes]] = {}  # sender -> nonce -> tx id
        self.expiring: dict[bytes, int] = {}  # tx id -> valid_until_height, for txs that expire
        self.size_bytes = 0
        # tx id -> (decoded tx, signature verdict) from preverify, for the check_tx
        # calls that follow it; holds one batch at most.
        self.preverified: dict[bytes, tuple[SignedTx, BadSignature | None]] = {}

    def __len__(self) -> int:
        return len(self.txs)

    def __contains__(self, tx_id: bytes) -> bool:
        return tx_id in self.txs

    def check_tx(
        self, raw: bytes, state: StateReader, info: BlockInfo, params: ChainParams
    ) -> SignedTx:
        """Decode, validate and verify ``raw``; add it; return the decoded tx.

        ``info`` describes the next block (height, time). Raises a TxError
        subclass that says why a tx was refused; the pool is then unchanged.
        """
        verdict: BadSignature | None = None
        known = self.preverified.pop(sha256(raw), None) if self.preverified else None
        if known is None:
            stx = self.vm.decode_tx(raw, params)
        else:
            stx, verdict = known
        if stx.tx_id in self.txs:
            raise DuplicateTx("transaction is already in the mempool")
        if len(self.txs) >= self.limits.max_txs or (
            self.size_bytes + len(raw) > self.limits.max_bytes
        ):
            raise MempoolFull("the mempool is full; retry later")
        tx = stx.tx
        pending = self.by_sender.get(tx.sender)
        if pending is not None and tx.nonce in pending:
            raise NonceTaken(f"a transaction with nonce {tx.nonce} from this sender is "
                             "already pending")
        reader = _RememberingReader(state)  # the three account reads below hit the db once
        self.vm.validate_tx(reader, stx, info, params, verified=known is not None,
                            allow_future_nonce=True)
        if verdict is not None:
            raise verdict
        balance = self.vm.ledger.get_balance(reader, tx.sender)
        if balance < tx.fee:
            raise InsufficientFunds(f"balance {balance} cannot pay the fee {tx.fee}")
        account_nonce = self.vm.ledger.get_nonce(reader, tx.sender)
        if tx.nonce > account_nonce + self.limits.max_nonce_gap:
            raise BadNonce(f"nonce {tx.nonce} is too far ahead of the account nonce "
                           f"{account_nonce}")
        self.txs[stx.tx_id] = stx
        self.by_sender.setdefault(tx.sender, {})[tx.nonce] = stx.tx_id
        if tx.valid_until_height:
            self.expiring[stx.tx_id] = tx.valid_until_height
        self.size_bytes += len(raw)
        return stx

    def preverify(self, raws: list[bytes], state: StateReader, params: ChainParams) -> None:
        """Verify the signatures of a batch that is about to be checked, on
        ``verify_threads`` threads; each ``check_tx(raw)`` of the batch then
        uses the verdict instead of verifying again (each signature is still
        verified exactly once). Txs already pooled, undecodable or with a stale
        nonce are left to check_tx, which refuses them without verifying."""
        self.preverified = {}
        threads = self.limits.verify_threads
        if threads <= 1 or len(raws) < 2 * threads:
            return
        ledger = self.vm.ledger
        todo: list[SignedTx] = []
        for raw in raws:
            try:
                stx = self.vm.decode_tx(raw, params)
            except TxError:
                continue
            if stx.tx_id not in self.txs and stx.tx.nonce >= ledger.get_nonce(state,
                                                                              stx.tx.sender):
                todo.append(stx)
        verdicts = self.vm.verify_signatures(todo, threads)
        self.preverified = {stx.tx_id: (stx, verdict)
                            for stx, verdict in zip(todo, verdicts, strict=True)}

    def reap(self, max_txs: int, max_bytes: int, state: StateReader) -> list[SignedTx]:
        """Up to ``max_txs`` / ``max_bytes`` of txs that can run in order now."""
        chosen: list[SignedTx] = []
        next_nonce: dict[bytes, int] = {}
        used = 0
        ledger = self.vm.ledger
        for stx in self.txs.values():
            sender = stx.tx.sender
            expected = next_nonce.get(sender)
            if expected is None:
                expected = ledger.get_nonce(state, sender)
            if stx.tx.nonce != expected:
                continue  # a gap, or an out-of-order arrival: picked up below
            run = self._run_from(sender, expected)
            for item in run:
                if len(chosen) >= max_txs or used + len(item.raw) > max_bytes:
                    return chosen
                chosen.append(item)
                used += len(item.raw)
            next_nonce[sender] = expected + len(run)
        return chosen

    def _run_from(self, sender: bytes, nonce: int) -> list[SignedTx]:
        pending = self.by_sender[sender]
        run = []
        while nonce in pending:
            run.append(self.txs[pending[nonce]])
            nonce += 1
        return run

    def remove(self, tx_ids: Iterable[bytes]) -> None:
        for tx_id in tx_ids:
            stx = self.txs.pop(tx_id, None)
            if stx is None:
                continue
            self.size_bytes -= len(stx.raw)
            self.expiring.pop(tx_id, None)
            pending = self.by_sender[stx.tx.sender]
            pending.pop(stx.tx.nonce, None)
            if not pending:
                del self.by_sender[stx.tx.sender]

    def update(self, committed: Iterable[bytes], state: StateReader, next_height: int) -> None:
        """After a block: drop committed txs, stale nonces and expired txs."""
        self.remove(committed)
        ledger = self.vm.ledger
        stale: list[bytes] = []
        for sender, pending in self.by_sender.items():
            nonce = ledger.get_nonce(state, sender)
            stale.extend(tx_id for n, tx_id in pending.items() if n < nonce)
        stale.extend(tx_id for tx_id, until in self.expiring.items() if until < next_height)
        self.remove(stale)


class _RememberingReader:
    """A StateReader that remembers what it read, for one check_tx (the state
    does not change while a tx is checked)."""

    __slots__ = ("state", "seen")

    def __init__(self, state: StateReader) -> None:
        self.state = state
        self.seen: dict[bytes, bytes | None] = {}

    def get(self, key: bytes) -> bytes | None:
        seen = self.seen
        if key in seen:
            return seen[key]
        value = seen[key] = self.state.get(key)
        return value

    def iterate(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        return self.state.iterate(prefix)
