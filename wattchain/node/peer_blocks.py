"""Blocks and their commits from peers' JSON-RPC (``block``, ``commit``), for
``wattchain node repair``.

A peer is not trusted: the block is rebuilt from its JSON and must hash to the
id the peer gives; the caller (the replay) then checks it against its commit
and the validator set exactly as block sync does, so a lying peer can only
make a height fail, never put a wrong block in the store.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

from wattchain.client import RpcClient
from wattchain.errors import WattchainError
from wattchain.types import Block, Commit, CommitSig, Header


def _hex(text: str) -> bytes:
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)


def commit_from_json(data: dict[str, Any]) -> Commit:
    """The inverse of the RPC's ``commit_json``."""
    return Commit(int(data["height"]), int(data["round"]), _hex(data["block_hash"]),
                  [CommitSig(_hex(s["validator"]), int(s["timestamp_ms"]), _hex(s["signature"]))
                   for s in data["signatures"]])


def block_from_json(data: dict[str, Any]) -> Block:
    """The inverse of the RPC's ``block_json``."""
    header = data["header"]
    last_commit = data["last_commit"]
    return Block(
        Header(str(header["chain_id"]), int(header["height"]), int(header["time_ms"]),
               _hex(header["proposer"]), _hex(header["prev_block_hash"]),
               _hex(header["tx_root"]), _hex(header["app_hash"]),
               _hex(header["validators_hash"]), _hex(header["last_commit_hash"])),
        [base64.b64decode(raw, validate=True) for raw in data["txs"]],
        commit_from_json(last_commit) if last_commit is not None else None,
        [_hex(item) for item in data["evidence"]],
    )


class PeerBlocks:
    """``fetch(height)`` for the replay: the first peer whose answer holds a
    well-formed block with the id it claims, and its commit; None if none has.
    Use as a context manager (it keeps one HTTP client per peer)."""

    def __init__(self, urls: Sequence[str], timeout_s: float = 10.0) -> None:
        self.clients = [RpcClient(url, timeout_s) for url in urls]

    def __enter__(self) -> PeerBlocks:
        return self

    def __exit__(self, *exc: object) -> None:
        for client in self.clients:
            client.close()

    def __call__(self, height: int) -> tuple[Block, Commit] | None:
        for client in self.clients:
            try:
                answer = client.call("block", height=height)
                block = block_from_json(answer["block"])
                signed = client.call("commit", height=height)
                commit = commit_from_json(signed["signed_header"]["commit"])
            except (WattchainError, KeyError, TypeError, ValueError, binascii.Error):
                continue  # this peer cannot give it; ask the next
            if block.hash().hex() == answer["block_id"]["hash"]:
                return block, commit
        return None
