"""Block execution, written to read like a specification.

``process_block`` runs a block's transactions in order over an overlay of the
current state, then every module's end_block, and returns the write set and
the new app hash. Nothing here reads a clock, a random source or a float:
the same block over the same state gives the same result on every node.

A transaction is *invalid* when it fails ``validate_tx`` (malformed, bad
signature, wrong chain, bad nonce, low fee, cannot pay the fee, expired,
unknown method): it changes nothing at all. A valid transaction always pays
its fee and bumps its sender's nonce; its handler's writes apply all
together or, if the handler raises, not at all.
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from typing import Any

from wattchain import codec
from wattchain.crypto import address_of, recover_signers, verify_address
from wattchain.errors import DecodeError, SignatureError, WattchainError
from wattchain.hashing import sha256
from wattchain.types import Event, SignedTx
from wattchain.vm.errors import (
    BadNonce,
    BadSignature,
    FeeTooLow,
    InternalError,
    MalformedTx,
    TxError,
    TxExpired,
    TxTooLarge,
    UnknownMethod,
    UnknownQuery,
    WrongChainId,
)
from wattchain.vm.interface import Context, EvidenceKeeper, FeeLedger, Handler, Module
from wattchain.vm.params import ChainParams, load_params
from wattchain.vm.state import Overlay, StateReader

APP_HASH_DOMAIN = b"wattchain/app-hash/v1"


@dataclass(slots=True)
class BlockInfo:
    chain_id: str
    height: int
    time_ms: int
    proposer: bytes


@dataclass(slots=True)
class TxResult:
    code: int = 0
    codespace: str = ""
    log: str = ""
    events: list[Event] = field(default_factory=list)
    fee: int = 0

    @property
    def ok(self) -> bool:
        return self.code == 0

    def to_list(self) -> list[Any]:
        return [self.code, self.codespace, self.log, [e.to_list() for e in self.events], self.fee]

    @classmethod
    def from_list(cls, value: list[Any]) -> TxResult:
        code, codespace, log, events, fee = value
        return cls(code, codespace, log, [Event.from_list(e) for e in events], fee)

    @classmethod
    def from_error(cls, error: WattchainError, fee: int = 0) -> TxResult:
        return cls(code=error.code, codespace=error.codespace, log=error.message, fee=fee)


@dataclass(slots=True)
class BlockResult:
    tx_results: list[TxResult]
    end_block_events: list[Event]
    writes: list[tuple[bytes, bytes | None]]
    app_hash: bytes


def compute_app_hash(
    previous_app_hash: bytes, writes: Sequence[tuple[bytes, bytes | None]]
) -> bytes:
    """sha256(domain + previous app hash + canonical sorted write set)."""
    return sha256(APP_HASH_DOMAIN + previous_app_hash + codec.encode_unchecked(list(writes)))


class VM:
    """Routes transactions to module handlers; holds no state of its own."""

    def __init__(self, modules: Sequence[Module], ledger: FeeLedger,
                 evidence_keeper: EvidenceKeeper | None = None) -> None:
        self.modules = list(modules)
        self.ledger = ledger
        self.evidence_keeper = evidence_keeper
        self.routes: dict[tuple[str, str], Handler] = {}
        for module in self.modules:
            for method, handler in module.handlers.items():
                self.routes[(module.name, method)] = handler
        self.by_name = {module.name: module for module in self.modules}

    # -- validation -------------------------------------------------------

    def decode_tx(self, raw: bytes, params: ChainParams) -> SignedTx:
        if len(raw) > params.max_tx_bytes:
            raise TxTooLarge(f"transaction is {len(raw)} bytes, the limit is {params.max_tx_bytes}")
        try:
            return SignedTx.decode(raw, params.max_tx_bytes)
        except DecodeError as exc:
            raise MalformedTx(f"malformed transaction: {exc.message}") from None

    def verify_signature(self, stx: SignedTx) -> None:
        try:
            verify_address(stx.signature, stx.sign_digest(), stx.tx.sender)
        except SignatureError as exc:
            raise BadSignature(exc.message) from None

    def verify_signatures(self, stxs: Sequence[SignedTx],
                          threads: int = 1) -> list[BadSignature | None]:
        """``verify_signature`` for many txs at once (on ``threads`` threads):
        None where the signature is the sender's, else the error it raises."""
        signers = recover_signers([(stx.signature, stx.sign_digest()) for stx in stxs], threads)
        verdicts: list[BadSignature | None] = []
        for stx, signer in zip(stxs, signers, strict=True):
            if isinstance(signer, SignatureError):
                verdicts.append(BadSignature(signer.message))
            elif address_of(signer) != stx.tx.sender:
                verdicts.append(BadSignature("signature was not made by the sender's key"))
            else:
                verdicts.append(None)
        return verdicts

    def validate_tx(
        self,
        state: StateReader,
        stx: SignedTx,
        info: BlockInfo,
        params: ChainParams,
        *,
        verified: bool,
        allow_future_nonce: bool = False,
    ) -> None:
        """Raise a TxError if ``stx`` may not be executed at ``info.height``.

        ``verified`` says the signature of exactly these bytes was already
        checked (the mempool's cache); it is then not checked again.
        """
        tx = stx.tx
        # Checked here too, not only in decode_tx: a tx handed over already
        # decoded (by the mempool) must meet the same limit as raw bytes.
        if len(stx.raw) > params.max_tx_bytes:
            raise TxTooLarge(f"transaction is {len(stx.raw)} bytes, "
                             f"the limit is {params.max_tx_bytes}")
        if tx.chain_id != info.chain_id:
            raise WrongChainId(f"transaction is for chain {tx.chain_id!r}, "
                               f"this is {info.chain_id!r}")
        if tx.valid_until_height and info.height > tx.valid_until_height:
            raise TxExpired(f"transaction was valid until height {tx.valid_until_height}")
        if (tx.module, tx.method) not in self.routes:
            raise UnknownMethod(f"unknown method {tx.module}.{tx.method}")
        if tx.fee < params.min_fee:
            raise FeeTooLow(f"fee {tx.fee} is below the minimum {params.min_fee}")
        expected = self.ledger.get_nonce(state, tx.sender)
        if tx.nonce < expected or (tx.nonce > expected and not allow_future_nonce):
            raise BadNonce(f"nonce {tx.nonce} does not match the account nonce {expected}")
        if not verified:
            self.verify_signature(stx)

    # -- execution --------------------------------------------------------

    def apply_tx(
        self,
        block_state: Overlay,
        stx: SignedTx,
        info: BlockInfo,
        params: ChainParams,
        verified: bool,
    ) -> TxResult:
        """Validate, charge the fee, run the handler all-or-nothing."""
        tx = stx.tx
        try:
            self.validate_tx(block_state, stx, info, params, verified=verified)
            self.ledger.charge_fee(block_state, tx.sender, tx.fee, tx.nonce + 1)
        except WattchainError as exc:
            return TxResult.from_error(exc)
        tx_state = Overlay(block_state)
        ctx = Context(tx_state, tx.sender, info.height, info.time_ms, info.chain_id, params,
                      tx.module)
        try:
            self.routes[(tx.module, tx.method)](ctx, tx.args)
        except WattchainError as exc:
            return TxResult.from_error(exc, fee=tx.fee)
        except Exception as exc:  # a handler bug must not halt the chain
            error = InternalError(f"internal error in {tx.module}.{tx.method}: {exc!r}")
            return TxResult.from_error(error, fee=tx.fee)
        tx_state.commit_into(block_state)
        return TxResult(events=ctx.events, fee=tx.fee)

    def process_block(
        self,
        state: StateReader,
        info: BlockInfo,
        txs: Sequence[SignedTx | bytes],
        previous_app_hash: bytes,
        verified_ids: Container[bytes] = (),
        evidence: Sequence[bytes] = (),
    ) -> BlockResult:
        """Execute a block. ``txs`` holds decoded txs, or raw bytes to decode here
        (a malformed one gets a MalformedTx result and changes nothing)."""
        block_state = Overlay(state)
        params = load_params(block_state)
        results: list[TxResult] = []
        for item in txs:
            if isinstance(item, SignedTx):
                stx = item
            else:
                try:
                    stx = self.decode_tx(item, params)
                except TxError as exc:
                    results.append(TxResult.from_error(exc))
                    continue
            results.append(
                self.apply_tx(block_state, stx, info, params, stx.tx_id in verified_ids)
            )
        end_events = self.record_evidence(block_state, info, params, evidence)
        end_events += self.end_block(block_state, info, params)
        writes = block_state.sorted_writes()
        return BlockResult(results, end_events, writes, compute_app_hash(previous_app_hash, writes))

    def record_evidence(self, block_state: Overlay, info: BlockInfo, params: ChainParams,
                        evidence: Sequence[bytes]) -> list[Event]:
        """Record each piece of evidence; one that fails verification is skipped
        (the node refuses proposals carrying it, so honest blocks have none)."""
        if self.evidence_keeper is None or not evidence:
            return []
        events: list[Event] = []
        for item in evidence:
            ctx = Context(Overlay(block_state), b"", info.height, info.time_ms, info.chain_id,
                          params, "chain")
            try:
                self.evidence_keeper.record_evidence(ctx, item)
            except WattchainError:
                continue
            ctx.state.commit_into(block_state)
            events.extend(ctx.events)
        return events

    def end_block(self, block_state: Overlay, info: BlockInfo, params: ChainParams) -> list[Event]:
        events: list[Event] = []
        for module in self.modules:
            ctx = Context(Overlay(block_state), b"", info.height, info.time_ms, info.chain_id,
                          params, module.name)
            module.end_block(ctx)
            ctx.state.commit_into(block_state)
            events.extend(ctx.events)
        return events

    # -- queries and genesis ---------------------------------------------

    def query(self, state: StateReader, path: str, data: dict[str, Any]) -> Any:
        module_name, _, query_name = path.partition("/")
        module = self.by_name.get(module_name)
        if module is None or query_name not in module.queries:
            known = sorted(f"{m.name}/{q}" for m in self.modules for q in m.queries)
            raise UnknownQuery(f"unknown query path {path!r}; known: {', '.join(known)}")
        return module.queries[query_name](state, data)

    def check_invariants(self, state: StateReader) -> list[str]:
        problems: list[str] = []
        for module in self.modules:
            problems.extend(module.check_invariants(state))
        return problems
