"""A real store written by a real chain, and the kinds of damage done to it.

``build_home`` runs a devnet node in-process for a few heights of transfers
and stops it; ``settle`` moves everything LevelDB holds into table files
(.ldb), so the damage helpers can hit a table. Each helper damages one thing
the way a disk or an operator would: a flipped byte inside a table, a deleted
key, a changed state value, WAL bytes cut or overwritten.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import plyvel
from chain_helpers import ALICE, BOB
from node_helpers import Devnet, make_devnet

from wattchain.node.config import Home
from wattchain.node.node import Node
from wattchain.node.store import BlockStore
from wattchain.node.wal import encode_frame
from wattchain.types import SignedTx

HEIGHTS = 6
TXS_PER_BLOCK = 30  # a block fills LevelDB data blocks (4 KiB) of its own


@dataclass
class Built:
    devnet: Devnet
    tip: int
    app_hashes: dict[int, bytes] = field(default_factory=dict)
    txs: dict[int, list[SignedTx]] = field(default_factory=dict)

    @property
    def db(self) -> Path:
        return self.devnet.home.db_path


def build_home(root: Path, heights: int = HEIGHTS) -> Built:
    """A devnet home whose chain has ``heights`` blocks of transfers to alice and bob."""
    devnet = make_devnet(root)
    node = Node(devnet.home)
    built = Built(devnet, heights)
    nonce = 0
    try:
        for height in range(1, heights + 1):
            sent = []
            for index in range(TXS_PER_BLOCK):
                recipient = (ALICE, BOB)[index % 2]
                stx = devnet.transfer(nonce, recipient.address, 10 * height)
                nonce += 1
                node.submit_tx(stx.raw)
                sent.append(stx)
            committed = node.produce_block()
            assert committed.tip.height == height
            built.txs[height] = sent
            built.app_hashes[height] = committed.tip.app_hash
    finally:
        node.runner.wal.close()
        node.chain.close()
    return built


def settle(db: Path) -> None:
    """Compact the database so every record sits in a table file."""
    raw = plyvel.DB(str(db))
    try:
        raw.compact_range()
    finally:
        raw.close()


def copy_home(built: Built, root: Path) -> Devnet:
    """A copy of the home (a healthy peer of the same chain)."""
    shutil.copytree(built.devnet.home.root, root)
    return Devnet(Home(root), built.devnet.faucet, built.devnet.chain_id)


def flip_block_bytes(built: Built, height: int) -> str:
    """Flip a byte of block ``height`` inside the table file holding it (found
    by a signature of one of its txs: signatures do not compress); returns the
    table's file name."""
    needle = built.txs[height][TXS_PER_BLOCK // 2].signature[:32]
    for table in sorted(built.db.glob("*.ldb")):
        data = bytearray(table.read_bytes())
        at = data.find(needle)
        if at >= 0:
            data[at + 8] ^= 0xFF
            table.write_bytes(bytes(data))
            return table.name
    raise AssertionError(f"block {height} is in no table file; settle() first")


def raw_db(built: Built) -> plyvel.DB:
    return plyvel.DB(str(built.db))


def delete_key(built: Built, key: bytes) -> None:
    db = raw_db(built)
    try:
        assert db.get(key) is not None, key
        db.delete(key, sync=True)
    finally:
        db.close()


def block_key(height: int) -> bytes:
    return b"B" + height.to_bytes(8, "big")


def tx_index_key(stx: SignedTx) -> bytes:
    return b"T" + stx.tx_id


def change_balance(built: Built) -> bytes:
    """Overwrite alice's account record with the faucet's: a well-formed value
    in the wrong place, as a careless edit would leave. Returns the key."""
    alice = b"sacc/a/" + ALICE.address
    faucet = b"sacc/a/" + built.devnet.faucet.address
    db = raw_db(built)
    try:
        assert db.get(alice) is not None and db.get(faucet) != db.get(alice)
        db.put(alice, db.get(faucet), sync=True)
        return alice
    finally:
        db.close()


def read_store(built: Built) -> BlockStore:
    return BlockStore(built.db)


# -- the consensus WAL ------------------------------------------------------------


def wal_with_frames(path: Path, count: int = 4) -> bytes:
    """Write a WAL of a height marker and ``count`` entries; its bytes."""
    from wattchain import codec

    frames = [encode_frame(codec.encode(["height", 99]))]
    frames += [encode_frame(codec.encode(["vote", bytes([i]) * 40])) for i in range(count)]
    data = b"".join(frames)
    path.write_bytes(data)
    return data


def tear_tail(path: Path, cut: int = 5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:-cut])


def garbage_tail(path: Path) -> None:
    path.write_bytes(path.read_bytes() + bytes(range(7, 90, 3)))


def garbage_in_middle(path: Path) -> int:
    """Overwrite bytes inside the second frame; returns the frame's offset."""
    data = bytearray(path.read_bytes())
    first_length = int.from_bytes(data[0:4], "big")
    second = 8 + first_length
    data[second + 10:second + 14] = b"\xde\xad\xbe\xef"
    path.write_bytes(bytes(data))
    return second
