"""Chain data types: transactions, blocks, votes, commits and events.

Every type encodes to a canonical msgpack array (see ``codec``) and decodes
back with full shape checks; ``decode`` raises DecodeError for anything that
is not exactly the expected shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wattchain import codec
from wattchain.crypto import ADDRESS_LEN, sign_bytes
from wattchain.errors import DecodeError
from wattchain.hashing import HASH_LEN, sha256

TX_DOMAIN = b"wattchain/tx/v1"
VOTE_DOMAIN = b"wattchain/vote/v1"

MAX_NAME_LEN = 64
U64_MAX = (1 << 64) - 1


def _expect_list(value: Any, length: int, what: str) -> list[Any]:
    if type(value) is not list or len(value) != length:
        raise DecodeError(f"{what} must be an array of {length} items")
    return value


def _expect_int(value: Any, what: str) -> int:
    if type(value) is not int or value < 0:
        raise DecodeError(f"{what} must be a non-negative integer")
    return value


def _expect_bytes(value: Any, what: str, length: int | None = None) -> bytes:
    if type(value) is not bytes or (length is not None and len(value) != length):
        size = f" of {length} bytes" if length is not None else ""
        raise DecodeError(f"{what} must be bytes{size}")
    return value


def _expect_str(value: Any, what: str, max_len: int = MAX_NAME_LEN) -> str:
    if type(value) is not str or not 0 < len(value) <= max_len:
        raise DecodeError(f"{what} must be a string of 1..{max_len} characters")
    return value


@dataclass(slots=True)
class Tx:
    """An unsigned transaction body."""

    chain_id: str
    sender: bytes
    nonce: int
    fee: int
    module: str
    method: str
    args: list[Any]
    valid_until_height: int = 0  # 0: no expiry

    def to_list(self) -> list[Any]:
        return [
            self.chain_id,
            self.sender,
            self.nonce,
            self.fee,
            self.module,
            self.method,
            self.args,
            self.valid_until_height,
        ]

    def encode(self) -> bytes:
        return codec.encode(self.to_list())

    def sign_digest(self, body: bytes | None = None) -> bytes:
        return sign_bytes(TX_DOMAIN, self.chain_id, body if body is not None else self.encode())

    @classmethod
    def from_list(cls, value: Any) -> Tx:
        if type(value) is list and len(value) == 8:
            # The common case in one expression (every received tx passes here);
            # anything off falls through to the checks that say what is wrong.
            chain_id, sender, nonce, fee, module, method, args, valid_until = value
            if (type(chain_id) is str and 0 < len(chain_id) <= MAX_NAME_LEN
                    and type(sender) is bytes and len(sender) == ADDRESS_LEN
                    and type(nonce) is int and nonce >= 0 and type(fee) is int and fee >= 0
                    and type(module) is str and 0 < len(module) <= MAX_NAME_LEN
                    and type(method) is str and 0 < len(method) <= MAX_NAME_LEN
                    and type(args) is list and type(valid_until) is int and valid_until >= 0):
                return cls(chain_id, sender, nonce, fee, module, method, args, valid_until)
        items = _expect_list(value, 8, "transaction body")
        args = items[6]
        if type(args) is not list:
            raise DecodeError("transaction args must be an array")
        return cls(
            chain_id=_expect_str(items[0], "chain id"),
            sender=_expect_bytes(items[1], "sender", ADDRESS_LEN),
            nonce=_expect_int(items[2], "nonce"),
            fee=_expect_int(items[3], "fee"),
            module=_expect_str(items[4], "module"),
            method=_expect_str(items[5], "method"),
            args=args,
            valid_until_height=_expect_int(items[7], "valid_until_height"),
        )


@dataclass(slots=True)
class SignedTx:
    """A transaction with its signature; ``raw`` is the exact signed encoding."""

    tx: Tx
    body: bytes
    signature: bytes
    raw: bytes
    tx_id: bytes

    @classmethod
    def create(cls, tx: Tx, signature: bytes) -> SignedTx:
        body = tx.encode()
        raw = codec.encode([body, signature])
        return cls(tx=tx, body=body, signature=signature, raw=raw, tx_id=sha256(raw))

    @classmethod
    def decode(cls, raw: bytes, max_bytes: int = 64 * 1024) -> SignedTx:
        """Decode and shape-check a signed tx. The signature is NOT verified here."""
        if len(raw) > max_bytes:
            raise DecodeError(f"transaction is {len(raw)} bytes, the limit is {max_bytes}")
        outer = codec.decode(raw)
        if type(outer) is list and len(outer) == 2 and type(outer[0]) is bytes and type(
                outer[1]) is bytes:
            body, signature = outer
        else:
            outer = _expect_list(outer, 2, "signed transaction")
            body = _expect_bytes(outer[0], "transaction body")
            signature = _expect_bytes(outer[1], "signature")
        tx = Tx.from_list(codec.decode(body))
        return cls(tx=tx, body=body, signature=signature, raw=bytes(raw), tx_id=sha256(raw))

    def sign_digest(self) -> bytes:
        return self.tx.sign_digest(self.body)


def sign_tx(tx: Tx, key: Any) -> SignedTx:
    """Sign ``tx`` with a ``crypto.PrivateKey``."""
    body = tx.encode()
    return SignedTx.create(tx, key.sign_digest(tx.sign_digest(body)))


@dataclass(slots=True)
class Event:
    """Something a transaction or end_block did, indexed for search."""

    module: str
    kind: str
    attributes: list[tuple[str, str]] = field(default_factory=list)

    def to_list(self) -> list[Any]:
        return [self.module, self.kind, [[k, v] for k, v in self.attributes]]

    @classmethod
    def from_list(cls, value: Any) -> Event:
        items = _expect_list(value, 3, "event")
        if type(items[0]) is not str or type(items[1]) is not str:
            raise DecodeError("event module and kind must be strings")
        if type(items[2]) is not list:
            raise DecodeError("event attributes must be an array")
        attributes = []
        for pair in items[2]:
            key, val = _expect_list(pair, 2, "event attribute")
            if type(key) is not str or type(val) is not str:
                raise DecodeError("event attribute keys and values must be strings")
            attributes.append((key, val))
        return cls(items[0], items[1], attributes)

    def to_json(self) -> dict[str, Any]:
        return {
            "module": self.module,
            "kind": self.kind,
            "attributes": {key: value for key, value in self.attributes},
        }


VOTE_PREVOTE = 1
VOTE_PRECOMMIT = 2


@dataclass(slots=True)
class Vote:
    """A prevote or precommit; ``block_hash`` is b"" for nil."""

    vote_type: int
    height: int
    round: int
    block_hash: bytes
    timestamp_ms: int
    validator: bytes
    signature: bytes = b""

    def sign_payload(self) -> bytes:
        return codec.encode(
            [self.vote_type, self.height, self.round, self.block_hash, self.timestamp_ms,
             self.validator]
        )

    def sign_digest(self, chain_id: str) -> bytes:
        return sign_bytes(VOTE_DOMAIN, chain_id, self.sign_payload())

    def to_list(self) -> list[Any]:
        return [self.vote_type, self.height, self.round, self.block_hash, self.timestamp_ms,
                self.validator, self.signature]

    def encode(self) -> bytes:
        return codec.encode(self.to_list())

    @classmethod
    def from_list(cls, value: Any) -> Vote:
        items = _expect_list(value, 7, "vote")
        vote_type = _expect_int(items[0], "vote type")
        if vote_type not in (VOTE_PREVOTE, VOTE_PRECOMMIT):
            raise DecodeError("vote type must be 1 (prevote) or 2 (precommit)")
        block_hash = _expect_bytes(items[3], "block hash")
        if len(block_hash) not in (0, HASH_LEN):
            raise DecodeError("block hash must be empty (nil) or 32 bytes")
        return cls(
            vote_type=vote_type,
            height=_expect_int(items[1], "height"),
            round=_expect_int(items[2], "round"),
            block_hash=block_hash,
            timestamp_ms=_expect_int(items[4], "timestamp"),
            validator=_expect_bytes(items[5], "validator", ADDRESS_LEN),
            signature=_expect_bytes(items[6], "signature"),
        )

    @classmethod
    def decode(cls, data: bytes) -> Vote:
        return cls.from_list(codec.decode(data))


@dataclass(slots=True)
class CommitSig:
    validator: bytes
    timestamp_ms: int
    signature: bytes

    def to_list(self) -> list[Any]:
        return [self.validator, self.timestamp_ms, self.signature]

    @classmethod
    def from_list(cls, value: Any) -> CommitSig:
        items = _expect_list(value, 3, "commit signature")
        return cls(
            validator=_expect_bytes(items[0], "validator", ADDRESS_LEN),
            timestamp_ms=_expect_int(items[1], "timestamp"),
            signature=_expect_bytes(items[2], "signature"),
        )


@dataclass(slots=True)
class Commit:
    """+2/3 precommits for one block: the proof that it is final."""

    height: int
    round: int
    block_hash: bytes
    signatures: list[CommitSig]

    def to_list(self) -> list[Any]:
        return [self.height, self.round, self.block_hash, [s.to_list() for s in self.signatures]]

    def encode(self) -> bytes:
        return codec.encode(self.to_list())

    def hash(self) -> bytes:
        return sha256(self.encode())

    def vote_of(self, sig: CommitSig) -> Vote:
        """The precommit a commit signature stands for (to verify it)."""
        return Vote(VOTE_PRECOMMIT, self.height, self.round, self.block_hash,
                    sig.timestamp_ms, sig.validator, sig.signature)

    @classmethod
    def from_list(cls, value: Any) -> Commit:
        items = _expect_list(value, 4, "commit")
        if type(items[3]) is not list:
            raise DecodeError("commit signatures must be an array")
        return cls(
            height=_expect_int(items[0], "height"),
            round=_expect_int(items[1], "round"),
            block_hash=_expect_bytes(items[2], "block hash", HASH_LEN),
            signatures=[CommitSig.from_list(s) for s in items[3]],
        )

    @classmethod
    def decode(cls, data: bytes) -> Commit:
        return cls.from_list(codec.decode(data))


@dataclass(slots=True)
class Header:
    chain_id: str
    height: int
    time_ms: int
    proposer: bytes
    prev_block_hash: bytes
    tx_root: bytes
    app_hash: bytes
    validators_hash: bytes
    last_commit_hash: bytes

    def to_list(self) -> list[Any]:
        return [self.chain_id, self.height, self.time_ms, self.proposer, self.prev_block_hash,
                self.tx_root, self.app_hash, self.validators_hash, self.last_commit_hash]

    def hash(self) -> bytes:
        return sha256(codec.encode(self.to_list()))

    @classmethod
    def from_list(cls, value: Any) -> Header:
        items = _expect_list(value, 9, "header")
        return cls(
            chain_id=_expect_str(items[0], "chain id"),
            height=_expect_int(items[1], "height"),
            time_ms=_expect_int(items[2], "time"),
            proposer=_expect_bytes(items[3], "proposer", ADDRESS_LEN),
            prev_block_hash=_expect_bytes(items[4], "previous block hash"),
            tx_root=_expect_bytes(items[5], "tx root", HASH_LEN),
            app_hash=_expect_bytes(items[6], "app hash", HASH_LEN),
            validators_hash=_expect_bytes(items[7], "validators hash", HASH_LEN),
            last_commit_hash=_expect_bytes(items[8], "last commit hash"),
        )


@dataclass(slots=True)
class Block:
    header: Header
    txs: list[bytes]
    last_commit: Commit | None
    evidence: list[bytes] = field(default_factory=list)

    def hash(self) -> bytes:
        return self.header.hash()

    def to_list(self) -> list[Any]:
        commit = self.last_commit.to_list() if self.last_commit is not None else None
        return [self.header.to_list(), self.txs, commit, self.evidence]

    def encode(self) -> bytes:
        return codec.encode_unchecked(self.to_list())

    @classmethod
    def decode(cls, data: bytes) -> Block:
        items = _expect_list(
            codec.decode(data, max_bytes_len=64 << 20, max_array_len=1 << 20), 4, "block"
        )
        if type(items[1]) is not list or any(type(t) is not bytes for t in items[1]):
            raise DecodeError("block txs must be an array of bytes")
        if type(items[3]) is not list or any(type(e) is not bytes for e in items[3]):
            raise DecodeError("block evidence must be an array of bytes")
        commit = Commit.from_list(items[2]) if items[2] is not None else None
        return cls(Header.from_list(items[0]), items[1], commit, items[3])
