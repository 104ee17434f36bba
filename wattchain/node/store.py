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
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import plyvel

from wattchain import codec
from wattchain.hashing import sha256
from wattchain.types import Block, Commit, Event, SignedTx
from wattchain.vm.execution import BlockResult, TxResult

_U64 = struct.Struct(">Q")
_POS = struct.Struct(">QI")
MAX_INDEXED_VALUE = 128


class StoreError(Exception):
    """The database is missing, locked, or does not match this chain."""


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

    __slots__ = ("_db",)

    def __init__(self, db: Any) -> None:
        self._db = db

    def get(self, key: bytes) -> bytes | None:
        value: bytes | None = self._db.get(b"s" + key)
        return value

    def iterate(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        for key, value in self._db.iterator(prefix=b"s" + prefix):
            yield key[1:], value


class BlockStore:
    """One LevelDB per node. Not thread-safe; the node's trio thread owns it."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = plyvel.DB(str(path), create_if_missing=True)
        except plyvel.IOError as exc:
            raise StoreError(f"cannot open the database at {path}: {exc} "
                             "(is another node running with this home?)") from None
        self.state = LevelStateReader(self.db)

    def close(self) -> None:
        if not self.db.closed:
            self.db.close()

    # -- meta ----------------------------------------------------------------

    def _meta(self, name: bytes) -> bytes | None:
        value: bytes | None = self.db.get(b"M" + name)
        return value

    def is_initialised(self) -> bool:
        return self._meta(b"genesis") is not None

    def genesis_hash(self) -> bytes | None:
        return self._meta(b"genesis")

    def tip(self) -> ChainTip:
        raw = self._meta(b"tip")
        if raw is None:
            raise StoreError("the database has no genesis state; run `wattchain node init`")
        height, app_hash, block_hash, time_ms = codec.decode(raw)
        return ChainTip(height, app_hash, block_hash, time_ms)

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
        with self.db.write_batch(transaction=True, sync=True) as batch:
            for key, value in writes:
                if value is not None:
                    batch.put(b"s" + key, value)
            batch.put(b"Mgenesis", genesis_hash)
            batch.put(b"Mtip", codec.encode(tip))
            batch.put(_height_key(b"A", initial_height - 1), app_hash)

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
        with self.db.write_batch(transaction=True, sync=True) as batch:
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
        value: bytes | None = self.db.get(_height_key(space, height))
        return value

    def block(self, height: int) -> Block | None:
        raw = self._at(b"B", height)
        return None if raw is None else Block.decode(raw)

    def block_bytes(self, height: int) -> bytes | None:
        return self._at(b"B", height)

    def commit(self, height: int) -> Commit | None:
        raw = self._at(b"C", height)
        return None if raw is None else Commit.decode(raw)

    def app_hash(self, height: int) -> bytes | None:
        return self._at(b"A", height)

    def height_of(self, block_hash: bytes) -> int | None:
        raw = self.db.get(b"H" + block_hash)
        return None if raw is None else int(_U64.unpack(raw)[0])

    def results(self, height: int) -> tuple[list[TxResult], list[Event]] | None:
        raw = self._at(b"R", height)
        if raw is None:
            return None
        tx_results, events = codec.decode(raw, max_array_len=1 << 20)
        return [TxResult.from_list(r) for r in tx_results], [Event.from_list(e) for e in events]

    def tx_position(self, tx_id: bytes) -> tuple[int, int] | None:
        raw = self.db.get(b"T" + tx_id)
        if raw is None:
            return None
        height, index = _POS.unpack(raw)
        return int(height), int(index)

    def search_txs(self, prefix: bytes, limit: int, offset: int = 0) -> tuple[list[bytes], int]:
        """Tx ids under an index prefix in chain order, and the total count."""
        found: list[bytes] = []
        total = 0
        for _, tx_id in self.db.iterator(prefix=prefix):
            if offset <= total < offset + limit:
                found.append(tx_id)
            total += 1
        return found, total


def sender_index(sender: bytes) -> bytes:
    return b"Is" + sender


def module_index(module: str) -> bytes:
    return b"Im" + module.encode() + b"\0"


def attribute_index(attribute: str) -> bytes:
    return b"Ie" + attribute.encode() + b"\0"
