"""The node's LevelDB: blocks, state, results, indexes and the applied height.

Everything a block changes is written in ONE ``write_batch(transaction=True,
sync=True)``, so after a crash the store holds either the whole block (its
state writes, results, indexes, commit and the new height) or none of it.

Key layout (one leading byte per space)::

    s<state key>                 state of the modules
    B<height:8>                  block bytes
    H<block hash>                height of a block hash
    C<height:8>                  the commit that finalised the block at height
    R<height:8>                  [tx results, end_block events]
    A<height:8>                  app hash after executing height
    T<tx id>                     [height, index]
    Is<sender><height:8><i:4>    tx index by sender
    Im<module>\\0<height:8><i:4>  tx index by module
    Ie<attr>\\0<height:8><i:4>    tx index by event attribute "module.kind.key=value"
    M<name>                      meta: height, app_hash, genesis

The database is opened with LevelDB's paranoid checks and every read
verifies its block's checksum: damage raises ``StoreCorrupted`` (naming the
file where it can) instead of returning wrong bytes. The first failure is
remembered, reported once through ``on_failure`` (the node stops on it), and
every later write is refused, so nothing is ever written to a broken store.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import plyvel

from wattchain import codec
from wattchain.errors import DecodeError
from wattchain.hashing import sha256
from wattchain.node.leveldb_files import log_files, named_file, tables_holding
from wattchain.types import Block, Commit, Event, SignedTx
from wattchain.vm.execution import BlockResult, TxResult

_U64 = struct.Struct(">Q")
_POS = struct.Struct(">QI")
MAX_INDEXED_VALUE = 128


class StoreError(Exception):
    """The database is missing, locked, or does not match this chain."""

    def advice(self, home: Path) -> str:
        """The message and what the operator can do about it, on one line."""
        return str(self)


class StoreCorrupted(StoreError):
    """The database is damaged: LevelDB found a bad checksum or a missing file,
    a record does not decode, or records disagree with each other.
    ``files``: the files of the database that hold the damage, when known."""

    def __init__(self, db_path: Path, detail: str, files: Sequence[str] = ()) -> None:
        where = f" (file {', '.join(str(db_path / name) for name in files)})" if files else ""
        super().__init__(f"the database {db_path} is damaged: {detail}{where}")
        self.db_path = db_path
        self.detail = detail
        self.files = list(files)

    def advice(self, home: Path) -> str:
        return (f"{self}; run `wattchain node repair --home {home}`, or restore "
                f"{self.db_path} from a peer's copy or a snapshot")


def leveldb_message(exc: plyvel.Error) -> str:
    """plyvel's error text (it carries bytes)."""
    raw = exc.args[0] if exc.args else ""
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)


def _height_key(space: bytes, height: int) -> bytes:
    return space + _U64.pack(height)


@dataclass(slots=True)
class ChainTip:
    height: int
    app_hash: bytes
    block_hash: bytes
    time_ms: int


class LevelStateReader:
    """The committed module state, as the vm's StateReader."""

    __slots__ = ("_db", "_store")

    def __init__(self, store: BlockStore) -> None:
        self._db = store.db
        self._store = store

    def get(self, key: bytes) -> bytes | None:
        try:
            value: bytes | None = self._db.get(b"s" + key, verify_checksums=True)
        except plyvel.Error as exc:
            raise self._store.failed(exc, b"s" + key, "reading state") from None
        return value

    def iterate(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        yield from self._store.scan(b"s" + prefix, strip=1)


class BlockStore:
    """One LevelDB per node. Not thread-safe; the node's trio thread owns it."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.failure: StoreCorrupted | None = None
        self.on_failure: Callable[[StoreCorrupted], None] = lambda failure: None
        try:
            self.db = plyvel.DB(str(path), create_if_missing=True, paranoid_checks=True)
        except plyvel.CorruptionError as exc:
            message = leveldb_message(exc)
            named = named_file(message)
            raise StoreCorrupted(path, f"opening it: {message}",
                                 [named] if named else log_files(path)) from None
        except plyvel.IOError as exc:
            message = leveldb_message(exc)
            named = named_file(message)
            if named is not None and not named.startswith(("LOCK", "CURRENT")):
                raise StoreCorrupted(path, f"opening it: {message}", [named]) from None
            raise StoreError(f"cannot open the database at {path}: {message} "
                             "(is another node running with this home?)") from None
        self.state = LevelStateReader(self)

    def close(self) -> None:
        if not self.db.closed:
            self.db.close()

    # -- damage ----------------------------------------------------------------

    def failed(self, exc: plyvel.Error | str, key: bytes | None, doing: str) -> StoreCorrupted:
        """Record damage met while ``doing`` something with ``key`` (a LevelDB
        error, or a description of a record that is wrong) and return the error
        to raise. The first failure is kept and reported through ``on_failure``."""
        if isinstance(exc, str):
            failure = StoreCorrupted(self.path, f"{doing}: {exc}")
        else:
            message = leveldb_message(exc)
            named = named_file(message)
            files = [named] if named else tables_holding(self.path, key) if key else []
            failure = StoreCorrupted(self.path, f"{doing}: {message}", files)
        if self.failure is None:
            self.failure = failure
            self.on_failure(failure)
        return failure

    def get(self, key: bytes, doing: str) -> bytes | None:
        """The value under a raw key, its checksum verified."""
        try:
            value: bytes | None = self.db.get(key, verify_checksums=True)
        except plyvel.Error as exc:
            raise self.failed(exc, key, doing) from None
        return value

    def scan(self, prefix: bytes, strip: int = 0) -> Iterator[tuple[bytes, bytes]]:
        """Every (key, value) under ``prefix`` in order, checksums verified;
        ``strip`` leading bytes are cut from each key."""
        last = prefix
        try:
            for key, value in self.db.iterator(prefix=prefix, verify_checksums=True):
                last = key
                yield key[strip:], value
        except plyvel.Error as exc:
            raise self.failed(exc, last, f"reading the keys after {last!r}") from None

    def _decoded(self, raw: bytes, decode: Callable[[bytes], Any], what: str) -> Any:
        try:
            return decode(raw)
        except (DecodeError, ValueError, TypeError, IndexError, struct.error) as exc:
            raise self.failed(f"{what} does not decode ({exc})", None, f"reading {what}") \
                from None

    # -- meta ----------------------------------------------------------------

    def _meta(self, name: bytes) -> bytes | None:
        return self.get(b"M" + name, f"reading the record {name.decode()}")

    def is_initialised(self) -> bool:
        return self._meta(b"genesis") is not None

    def genesis_hash(self) -> bytes | None:
        return self._meta(b"genesis")

    def tip(self) -> ChainTip:
        raw = self._meta(b"tip")
        if raw is None:
            raise StoreError("the database has no genesis state; run `wattchain node init`")
        fields = self._decoded(raw, codec.decode, "the tip record")
        try:
            height, app_hash, block_hash, time_ms = fields
            return ChainTip(int(height), bytes(app_hash), bytes(block_hash), int(time_ms))
        except (ValueError, TypeError) as exc:
            raise self.failed(f"the tip record is malformed ({exc})", None,
                              "reading the tip") from None

    def init_genesis(
        self,
        genesis_hash: bytes,
        writes: list[tuple[bytes, bytes | None]],
        app_hash: bytes,
        initial_height: int,
        genesis_time_ms: int,
    ) -> None:
        """Write the genesis state once; later calls must name the same genesis."""
        existing = self.genesis_hash()
        if existing is not None:
            if existing != genesis_hash:
                raise StoreError("the database was created from a different genesis.json")
            return
        tip = [initial_height - 1, app_hash, b"", genesis_time_ms]
        with self._batch("writing the genesis state") as batch:
            for key, value in writes:
                if value is not None:
                    batch.put(b"s" + key, value)
            batch.put(b"Mgenesis", genesis_hash)
            batch.put(b"Mtip", codec.encode(tip))
            batch.put(_height_key(b"A", initial_height - 1), app_hash)

    @contextmanager
    def _batch(self, doing: str) -> Iterator[Any]:
        """One atomic, synced write batch; refused once the store has failed."""
        if self.failure is not None:
            raise self.failure
        try:
            with self.db.write_batch(transaction=True, sync=True) as batch:
                yield batch
        except plyvel.Error as exc:
            raise self.failed(exc, None, doing) from None

    # -- commit ----------------------------------------------------------------

    def save_block(
        self,
        block: Block,
        txs: list[SignedTx | bytes],
        result: BlockResult,
        commit: Commit,
    ) -> ChainTip:
        """Persist a finalised block and everything it changed, atomically."""
        header = block.header
        height = header.height
        block_hash = block.hash()
        tip = ChainTip(height, result.app_hash, block_hash, header.time_ms)
        results = [[r.to_list() for r in result.tx_results],
                   [e.to_list() for e in result.end_block_events]]
        with self._batch(f"writing block {height}") as batch:
            for key, value in result.writes:
                if value is None:
                    batch.delete(b"s" + key)
                else:
                    batch.put(b"s" + key, value)
            batch.put(_height_key(b"B", height), block.encode())
            batch.put(b"H" + block_hash, _U64.pack(height))
            batch.put(_height_key(b"C", height), commit.encode())
            batch.put(_height_key(b"R", height), codec.encode_unchecked(results))
            batch.put(_height_key(b"A", height), result.app_hash)
            self._index_txs(batch, height, txs, result.tx_results)
            batch.put(b"Mtip", codec.encode([height, result.app_hash, block_hash,
                                             header.time_ms]))
        return tip

    def _index_txs(
        self, batch: Any, height: int, txs: list[SignedTx | bytes], results: list[TxResult]
    ) -> None:
        for index, (stx, tx_result) in enumerate(zip(txs, results, strict=True)):
            position = _POS.pack(height, index)
            if not isinstance(stx, SignedTx):
                batch.put(b"T" + sha256(stx), position)  # malformed: findable, not indexed
                continue
            batch.put(b"T" + stx.tx_id, position)
            tx = stx.tx
            batch.put(b"Is" + tx.sender + position, stx.tx_id)
            batch.put(b"Im" + tx.module.encode() + b"\0" + position, stx.tx_id)
            for event in tx_result.events:
                for key, value in event.attributes:
                    attribute = f"{event.module}.{event.kind}.{key}={value[:MAX_INDEXED_VALUE]}"
                    batch.put(b"Ie" + attribute.encode() + b"\0" + position, stx.tx_id)

    # -- reads -------------------------------------------------------------------

    def _at(self, space: bytes, height: int) -> bytes | None:
        """The value stored for ``height`` in a per-height key space (B, C, R, A)."""
        return self.get(_height_key(space, height), f"reading {SPACES[space]} {height}")

    def block(self, height: int) -> Block | None:
        raw = self._at(b"B", height)
        return None if raw is None else self._decoded(raw, Block.decode, f"block {height}")

    def block_bytes(self, height: int) -> bytes | None:
        return self._at(b"B", height)

    def commit(self, height: int) -> Commit | None:
        raw = self._at(b"C", height)
        return None if raw is None else self._decoded(raw, Commit.decode, f"commit {height}")

    def app_hash(self, height: int) -> bytes | None:
        return self._at(b"A", height)

    def height_of(self, block_hash: bytes) -> int | None:
        raw = self.get(b"H" + block_hash, "reading the height of a block hash")
        return None if raw is None else int(_U64.unpack(raw)[0])

    def results(self, height: int) -> tuple[list[TxResult], list[Event]] | None:
        raw = self._at(b"R", height)
        return None if raw is None else self._decoded(raw, _decode_results,
                                                      f"the results of block {height}")

    def tx_position(self, tx_id: bytes) -> tuple[int, int] | None:
        raw = self.get(b"T" + tx_id, "reading a tx index entry")
        if raw is None:
            return None
        height, index = self._decoded(raw, _POS.unpack, "a tx index entry")
        return int(height), int(index)

    def search_txs(self, prefix: bytes, limit: int, offset: int = 0) -> tuple[list[bytes], int]:
        """Tx ids under an index prefix in chain order, and the total count."""
        found: list[bytes] = []
        total = 0
        for _, tx_id in self.scan(prefix):
            if offset <= total < offset + limit:
                found.append(tx_id)
            total += 1
        return found, total


SPACES = {b"B": "block", b"C": "commit", b"R": "the results of block",
          b"A": "the app hash after block"}


def _decode_results(raw: bytes) -> tuple[list[TxResult], list[Event]]:
    tx_results, events = codec.decode(raw, max_array_len=1 << 20)
    return [TxResult.from_list(r) for r in tx_results], [Event.from_list(e) for e in events]


def sender_index(sender: bytes) -> bytes:
    return b"Is" + sender


def module_index(module: str) -> bytes:
    return b"Im" + module.encode() + b"\0"


def attribute_index(attribute: str) -> bytes:
    return b"Ie" + attribute.encode() + b"\0"
