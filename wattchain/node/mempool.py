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

from collections.abc import Iterable
from dataclasses import dataclass

from wattchain.types import SignedTx
from wattchain.vm.errors import BadNonce, InsufficientFunds, TxError
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


class Mempool:
    def __init__(self, vm: VM, limits: MempoolLimits | None = None) -> None:
        self.vm = vm
        self.limits = limits or MempoolLimits()
        self.txs: dict[bytes, SignedTx] = {}  # tx id -> tx, in arrival order
        self.by_sender: dict[bytes, dict[int, bytes]] = {}  # sender -> nonce -> tx id
        self.size_bytes = 0

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
        stx = self.vm.decode_tx(raw, params)
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
        self.vm.validate_tx(state, stx, info, params, verified=False, allow_future_nonce=True)
        balance = self.vm.ledger.get_balance(state, tx.sender)
        if balance < tx.fee:
            raise InsufficientFunds(f"balance {balance} cannot pay the fee {tx.fee}")
        account_nonce = self.vm.ledger.get_nonce(state, tx.sender)
        if tx.nonce > account_nonce + self.limits.max_nonce_gap:
            raise BadNonce(f"nonce {tx.nonce} is too far ahead of the account nonce "
                           f"{account_nonce}")
        self.txs[stx.tx_id] = stx
        self.by_sender.setdefault(tx.sender, {})[tx.nonce] = stx.tx_id
        self.size_bytes += len(raw)
        return stx

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
        for tx_id, stx in self.txs.items():
            until = stx.tx.valid_until_height
            if until and until < next_height:
                stale.append(tx_id)
        self.remove(stale)
