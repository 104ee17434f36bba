"""The mempool: verified transactions waiting for a block.

Each sender's pending txs wait in a ``SenderQueue`` keyed by nonce. The txs
from the account nonce up without a hole form the sender's *run* (they can
execute now, in order); a tx above a missing nonce is *stuck*.

Admission (``check_tx``), cheapest refusals first:

* duplicates (same tx id), a nonce another pending tx holds and stale nonces
  are refused;
* a sender may hold at most ``max_queued_per_sender`` txs ahead of its account
  nonce (16; ``sender_limits`` raises it per account, for gateways), else
  ``SenderQueueFull``; a nonce ``max_nonce_gap`` or more ahead of the account
  nonce is refused (``BadNonce``);
* each signature is verified once, on entry; the block executes the tx with
  ``verified_ids`` so it is never verified again;
* a full pool (count or bytes) makes room by evicting its weakest txs (see
  ``Mempool.rank``): stuck before executable, then lowest fee, then deepest in
  its sender's queue. A tx that ranks no higher than the weakest is refused
  with ``MempoolFull`` and the pool is unchanged.

``reap`` takes senders round-robin (every ready sender's next tx, then every
second tx, ...), so a sender with a long queue cannot delay a fresh one.
``update`` after every block drops what was committed and evicts what can no
longer run: stale nonces, expired txs, and txs behind a nonce gap that stayed
open for ``max_stuck_heights`` heights. Every eviction is reported to
``on_evict`` with one of the ``EVICTION_REASONS``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from heapq import heapify, heappop, heappush

from wattchain.hashing import sha256
from wattchain.node.mempool_queue import SenderQueue
from wattchain.types import SignedTx, Tx
from wattchain.vm.errors import BadNonce, BadSignature, InsufficientFunds, TxError
from wattchain.vm.execution import VM, BlockInfo
from wattchain.vm.params import ChainParams
from wattchain.vm.state import StateReader

__all__ = ["EVICTION_REASONS", "DuplicateTx", "Mempool", "MempoolError", "MempoolFull",
           "MempoolLimits", "NonceTaken", "SenderQueueFull"]


class MempoolError(TxError):
    codespace = "mempool"
    code = 20


class MempoolFull(MempoolError):
    code = 21


class DuplicateTx(MempoolError):
    code = 22


class NonceTaken(MempoolError):
    code = 23


class SenderQueueFull(MempoolError):
    """The sender already holds its limit of txs ahead of its account nonce."""

    code = 24


# Why a pending tx left the pool without being committed.
EVICTION_REASONS = {
    "stuck": "it waited behind a nonce gap that stayed open too long",
    "displaced": "the pool was full and a higher-ranked tx took its place",
    "expired": "its valid_until_height passed",
    "nonce_used": "another tx with its nonce was committed",
}

Rank = tuple[int, int, int]  # (runnable, fee, -depth): the lowest is evicted first
# (runnable, fee, -depth, entry number, sender): a sender's weakest tx (its top nonce)
VictimEntry = tuple[int, int, int, int, bytes]


@dataclass(slots=True)
class MempoolLimits:
    max_txs: int = 50_000
    max_bytes: int = 64 * 1024 * 1024
    # A nonce this far or further ahead of the account nonce is refused. 17 admits
    # the next nonce plus the 16 a sender may queue ahead, and no more.
    max_nonce_gap: int = 17
    verify_threads: int = 1  # threads that verify the signatures of a batch (preverify)
    max_queued_per_sender: int = 16  # txs a sender may hold ahead of its account nonce
    sender_limits: dict[bytes, int] = field(default_factory=dict)  # per-account overrides
    max_stuck_heights: int = 10  # heights a nonce gap may stay open before eviction

    def queue_limit(self, sender: bytes) -> int:
        return self.sender_limits.get(sender, self.max_queued_per_sender)

    def nonce_gap(self, sender: bytes) -> int:
        """The exclusive bound on nonce - account nonce; an account with its own
        queue limit may queue that far ahead."""
        own = self.sender_limits.get(sender)
        return self.max_nonce_gap if own is None else max(self.max_nonce_gap, own + 1)


class Mempool:
    def __init__(self, vm: VM, limits: MempoolLimits | None = None) -> None:
        self.vm = vm
        self.limits = limits or MempoolLimits()
        self.txs: dict[bytes, SignedTx] = {}  # tx id -> tx, in arrival order
        self.by_sender: dict[bytes, SenderQueue] = {}
        self.ready: dict[bytes, None] = {}  # senders whose next nonce is pending, in order
        self.size_bytes = 0
        # RPC refuses txs as busy from this size on (the chain sets it; rpc_admission)
        self.high_water = self.limits.max_txs * 8 // 10
        self.height = 0  # the next block's height, as of the last check_tx or update
        self.on_evict: Callable[[SignedTx, str], None] | None = None
        self._victims: list[VictimEntry] = []  # heap; stale entries are skipped lazily
        self._gaps: list[tuple[int, bytes]] = []  # heap of (gap opened at height, sender)
        self._expiry: list[tuple[int, bytes]] = []  # heap of (valid_until_height, tx id)
        self._entries = 0
        # tx id -> (decoded tx, signature verdict) from preverify, for the check_tx
        # calls that follow it; holds one batch at most.
        self.preverified: dict[bytes, tuple[SignedTx, BadSignature | None]] = {}

    def __len__(self) -> int:
        return len(self.txs)

    def __contains__(self, tx_id: bytes) -> bool:
        return tx_id in self.txs

    # -- admission ------------------------------------------------------------------

    def check_tx(
        self, raw: bytes, state: StateReader, info: BlockInfo, params: ChainParams
    ) -> SignedTx:
        """Decode, validate and verify ``raw``; add it (evicting weaker txs if the
        pool is full); return the decoded tx.

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
        tx = stx.tx
        queue = self.by_sender.get(tx.sender)
        if queue is not None and tx.nonce in queue.txs:
            raise NonceTaken(f"a transaction with nonce {tx.nonce} from this sender is "
                             "already pending")
        full = self._is_over_limits(len(raw))
        if full and not self._may_make_room(tx.fee, len(raw)):
            raise MempoolFull("the mempool is full; retry later or pay a higher fee")
        reader = _RememberingReader(state)  # the account reads below hit the db once
        ledger = self.vm.ledger
        # a queue's nonce is the account's: update() keeps it so after every block
        account_nonce = (queue.nonce if queue is not None
                         else ledger.get_nonce(reader, tx.sender))
        self._check_queue_room(tx, account_nonce, queue)  # before verifying: it is cheap
        self.vm.validate_tx(reader, stx, info, params, verified=known is not None,
                            allow_future_nonce=True)
        if verdict is not None:
            raise verdict
        balance = ledger.get_balance(reader, tx.sender)
        if balance < tx.fee:
            raise InsufficientFunds(f"balance {balance} cannot pay the fee {tx.fee}")
        self.height = info.height
        if full:
            self._make_room(tx.sender, self.rank(tx, account_nonce, queue), len(raw))
        self._add(stx, account_nonce, queue)
        return stx

    def _check_queue_room(self, tx: Tx, account_nonce: int, queue: SenderQueue | None) -> None:
        ahead = tx.nonce - account_nonce
        if ahead <= 0:
            return  # the next nonce is always welcome; a stale one fails validation
        limit = self.limits.queue_limit(tx.sender)
        queued = queue.queued_ahead() if queue is not None else 0
        if queued >= limit:
            raise SenderQueueFull(f"this sender already has {queued} transactions waiting "
                                  f"ahead of its account nonce {account_nonce} (at most "
                                  f"{limit}); wait for a block")
        gap = self.limits.nonce_gap(tx.sender)
        if ahead >= gap:
            raise BadNonce(f"nonce {tx.nonce} is too far ahead of the account nonce "
                           f"{account_nonce} (it must be less than {account_nonce + gap})")

    @staticmethod
    def rank(tx: Tx, account_nonce: int, queue: SenderQueue | None) -> Rank:
        """How much a tx deserves its place: runnable beats stuck, then the higher
        fee, then the shallower depth (nonce - account nonce) in its queue."""
        run_end = queue.run_end if queue is not None else account_nonce
        return int(tx.nonce == run_end), tx.fee, account_nonce - tx.nonce

    def _is_over_limits(self, size: int) -> bool:
        return (len(self.txs) >= self.limits.max_txs
                or self.size_bytes + size > self.limits.max_bytes)

    def _may_make_room(self, fee: int, size: int) -> bool:
        """Whether a tx of ``fee`` could displace anything, even at its best rank."""
        weakest = self._weakest()
        return (size <= self.limits.max_bytes and weakest is not None
                and weakest[:3] < (1, fee, 0))

    def _make_room(self, sender: bytes, rank: Rank, size: int) -> None:
        """Evict the weakest txs (one per other sender, each ranked below ``rank``)
        until a tx of ``size`` fits, or raise MempoolFull and evict nothing."""
        excess_count = len(self.txs) + 1 - self.limits.max_txs
        excess_bytes = self.size_bytes + size - self.limits.max_bytes
        chosen: list[VictimEntry] = []
        own: list[VictimEntry] = []
        while excess_count > 0 or excess_bytes > 0:
            entry = self._weakest()
            if entry is None or entry[:3] >= rank:
                break
            heappop(self._victims)
            if entry[4] == sender:
                own.append(entry)  # never open a gap in the incoming tx's own queue
                continue
            chosen.append(entry)
            queue = self.by_sender[entry[4]]
            excess_count -= 1
            excess_bytes -= len(queue.txs[queue.top].raw)
        for entry in own:
            heappush(self._victims, entry)
        if excess_count > 0 or excess_bytes > 0:
            for entry in chosen:
                heappush(self._victims, entry)
            raise MempoolFull("the mempool is full of transactions that rank at least as "
                              "high as this one (runnable, fee, queue depth); retry later "
                              "or pay a higher fee")
        for entry in chosen:
            self._evict_top(entry[4], "displaced")

    def preverify(self, raws: list[bytes], state: StateReader, params: ChainParams) -> None:
        """Verify the signatures of a batch that is about to be checked, on
        ``verify_threads`` threads; each ``check_tx(raw)`` of the batch then
        uses the verdict instead of verifying again (each signature is still
        verified exactly once). Txs already pooled, undecodable, with a stale
        nonce or without room in their sender's queue are left to check_tx,
        which refuses them without verifying."""
        self.preverified = {}
        threads = self.limits.verify_threads
        if threads <= 1 or len(raws) < 2 * threads:
            return
        todo: list[SignedTx] = []
        for raw in raws:
            try:
                stx = self.vm.decode_tx(raw, params)
                if stx.tx_id in self.txs:
                    continue
                queue = self.by_sender.get(stx.tx.sender)
                nonce = (queue.nonce if queue is not None
                         else self.vm.ledger.get_nonce(state, stx.tx.sender))
                if stx.tx.nonce >= nonce:
                    self._check_queue_room(stx.tx, nonce, queue)
                    todo.append(stx)
            except TxError:
                continue
        verdicts = self.vm.verify_signatures(todo, threads)
        self.preverified = {stx.tx_id: (stx, verdict)
                            for stx, verdict in zip(todo, verdicts, strict=True)}

    # -- proposal -------------------------------------------------------------------

    def reap(self, max_txs: int, max_bytes: int) -> list[SignedTx]:
        """Up to ``max_txs`` / ``max_bytes`` of txs that can run in order now:
        each ready sender's next tx (senders in the order they became ready),
        then each one's second, and so on; it stops at the first tx that does
        not fit. The pool is unchanged."""
        chosen: list[SignedTx] = []
        used = 0
        depth = 0
        queues: Iterable[SenderQueue] = (self.by_sender[sender] for sender in self.ready)
        while True:
            deeper: list[SenderQueue] = []
            for queue in queues:
                nonce = queue.nonce + depth
                stx = queue.txs[nonce]
                if len(chosen) >= max_txs or used + len(stx.raw) > max_bytes:
                    return chosen
                chosen.append(stx)
                used += len(stx.raw)
                if nonce + 1 < queue.run_end:
                    deeper.append(queue)
            if not deeper:
                return chosen
            queues = deeper
            depth += 1

    # -- after a block --------------------------------------------------------------

    def update(self, committed: Sequence[SignedTx | bytes], state: StateReader,
               next_height: int) -> None:
        """After a block (its txs as decoded, malformed ones as bytes): drop the
        committed txs; evict stale nonces, expired txs and txs stuck behind a
        gap open for ``max_stuck_heights`` heights."""
        self.height = next_height
        senders: dict[bytes, None] = {}
        for stx in committed:
            if isinstance(stx, SignedTx):
                senders[stx.tx.sender] = None
                if stx.tx_id in self.txs:
                    self._discard(stx)
        ledger = self.vm.ledger
        for sender in senders:
            queue = self.by_sender.get(sender)
            if queue is not None:
                self._advance(sender, queue, ledger.get_nonce(state, sender))
        self._evict_expired(next_height)
        self._evict_stuck(next_height)

    def _advance(self, sender: bytes, queue: SenderQueue, account_nonce: int) -> None:
        """The account nonce moved to ``account_nonce``: evict what it passed."""
        for nonce in [n for n in queue.txs if n < account_nonce]:
            self._evict(queue.txs[nonce], "nonce_used")
        queue.advance_to(account_nonce)
        self._settle(sender, queue)

    def _evict_expired(self, next_height: int) -> None:
        expiry = self._expiry
        while expiry and expiry[0][0] < next_height:
            stx = self.txs.get(heappop(expiry)[1])
            if stx is None:
                continue
            self._evict(stx, "expired")
            self._settle(stx.tx.sender, self.by_sender[stx.tx.sender])

    def _evict_stuck(self, next_height: int) -> None:
        gaps = self._gaps
        while gaps and gaps[0][0] + self.limits.max_stuck_heights <= next_height:
            opened, sender = heappop(gaps)
            queue = self.by_sender.get(sender)
            if queue is None or queue.gap_since != opened:
                continue  # the gap closed (and maybe opened again later)
            for nonce in [n for n in queue.txs if n > queue.run_end]:
                self._evict(queue.txs[nonce], "stuck")
            self._settle(sender, queue)

    # -- bookkeeping ----------------------------------------------------------------

    def _add(self, stx: SignedTx, account_nonce: int, queue: SenderQueue | None) -> None:
        tx = stx.tx
        if queue is None:
            queue = self.by_sender[tx.sender] = SenderQueue(account_nonce)
        queue.add(stx)
        self.txs[stx.tx_id] = stx
        self.size_bytes += len(stx.raw)
        if tx.valid_until_height:
            heappush(self._expiry, (tx.valid_until_height, stx.tx_id))
        self._settle(tx.sender, queue)

    def _settle(self, sender: bytes, queue: SenderQueue) -> None:
        """Bring the pool's indexes in line with ``queue`` after it changed."""
        if not queue.txs:
            del self.by_sender[sender]
            self.ready.pop(sender, None)
            return
        if queue.run_end > queue.nonce:
            self.ready.setdefault(sender)
        else:
            self.ready.pop(sender, None)
        if queue.top < queue.run_end:
            queue.gap_since = None
        elif queue.gap_since is None:
            queue.gap_since = self.height
            heappush(self._gaps, (self.height, sender))
        top = queue.txs[queue.top].tx
        self._entries += 1
        queue.entry = self._entries
        heappush(self._victims, (int(queue.top < queue.run_end), top.fee,
                                 queue.nonce - queue.top, self._entries, sender))
        if len(self._victims) > 2 * len(self.by_sender) + 1024:
            self._compact()

    def _weakest(self) -> VictimEntry | None:
        """The heap's lowest entry that still describes its sender's queue."""
        victims = self._victims
        while victims:
            entry = victims[0]
            queue = self.by_sender.get(entry[4])
            if queue is not None and queue.entry == entry[3]:
                return entry
            heappop(victims)
        return None

    def _compact(self) -> None:
        by_sender = self.by_sender
        self._victims = [entry for entry in self._victims
                         if (queue := by_sender.get(entry[4])) is not None
                         and queue.entry == entry[3]]
        heapify(self._victims)
        self._gaps = [(opened, sender) for opened, sender in self._gaps
                      if (queue := by_sender.get(sender)) is not None
                      and queue.gap_since == opened]
        heapify(self._gaps)
        self._expiry = [item for item in self._expiry if item[1] in self.txs]
        heapify(self._expiry)

    def _evict_top(self, sender: bytes, reason: str) -> None:
        queue = self.by_sender[sender]
        self._evict(queue.txs[queue.top], reason)
        self._settle(sender, queue)

    def _evict(self, stx: SignedTx, reason: str) -> None:
        """Remove ``stx`` and report it; the caller settles its queue."""
        self._discard(stx)
        if self.on_evict is not None:
            self.on_evict(stx, reason)

    def _discard(self, stx: SignedTx) -> None:
        """Remove ``stx`` from the pool and its queue; the caller settles the queue."""
        del self.txs[stx.tx_id]
        self.size_bytes -= len(stx.raw)
        self.by_sender[stx.tx.sender].remove(stx.tx.nonce)


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
