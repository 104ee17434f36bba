"""Messages between nodes, per protocol, as canonical msgpack arrays.

consensus: ["proposal", proposal, block] | ["vote", vote]
txs:       ["txs", [signed tx, ...]]
sync:      ["status", height] | ["get_blocks", from_height, count]
           | ["blocks", [[block, commit], ...]]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wattchain import codec
from wattchain.consensus.messages import Proposal
from wattchain.errors import DecodeError
from wattchain.types import Block, Commit, Vote, _expect_bytes, _expect_int

MAX_TX_BATCH = 5_000
MAX_SYNC_BLOCKS = 50
MAX_MESSAGE_BYTES = 64 << 20


@dataclass(slots=True)
class ProposalMessage:
    """A signed proposal with the block it proposes."""

    proposal: Proposal
    block: Block


@dataclass(slots=True)
class VoteMessage:
    """A signed prevote or precommit."""

    vote: Vote


@dataclass(slots=True)
class TxBatch:
    """Signed txs a peer admitted to its mempool, batched for gossip."""

    txs: list[bytes]


@dataclass(slots=True)
class Status:
    """The sender's committed height: sent on connect and every second."""

    height: int


@dataclass(slots=True)
class GetBlocks:
    """A request for up to ``count`` committed blocks from ``from_height`` on."""

    from_height: int
    count: int


@dataclass(slots=True)
class Blocks:
    """The reply to GetBlocks: consecutive blocks, each with its commit."""

    items: list[tuple[Block, Commit]]


Message = ProposalMessage | VoteMessage | TxBatch | Status | GetBlocks | Blocks


def encode_proposal(proposal: Proposal, block: Block) -> bytes:
    return codec.encode_unchecked(["proposal", proposal.encode(), block.encode()])


def encode_vote(vote: Vote) -> bytes:
    return codec.encode_unchecked(["vote", vote.encode()])


def encode_txs(txs: list[bytes]) -> bytes:
    return codec.encode_unchecked(["txs", txs])


def encode_status(height: int) -> bytes:
    return codec.encode_unchecked(["status", height])


def encode_get_blocks(from_height: int, count: int) -> bytes:
    return codec.encode_unchecked(["get_blocks", from_height, count])


def encode_blocks(items: list[tuple[bytes, bytes]]) -> bytes:
    return codec.encode_unchecked(["blocks", [[block, commit] for block, commit in items]])


def decode_message(data: bytes) -> Message:
    """Decode any wire message; raises DecodeError for anything malformed."""
    value = codec.decode(data, max_bytes_len=MAX_MESSAGE_BYTES, max_array_len=1 << 20)
    if type(value) is not list or not value or type(value[0]) is not str:
        raise DecodeError("a message is an array starting with its kind")
    kind, body = value[0], value[1:]
    decoder = _DECODERS.get(kind)
    if decoder is None:
        raise DecodeError(f"unknown message kind {kind!r}")
    return decoder(body)


def _shape(body: list[Any], count: int, kind: str) -> list[Any]:
    if len(body) != count:
        raise DecodeError(f"{kind} message has {len(body)} fields, expected {count}")
    return body


def _proposal(body: list[Any]) -> Message:
    proposal, block = _shape(body, 2, "proposal")
    return ProposalMessage(Proposal.decode(_expect_bytes(proposal, "proposal")),
                           Block.decode(_expect_bytes(block, "block")))


def _vote(body: list[Any]) -> Message:
    (vote,) = _shape(body, 1, "vote")
    return VoteMessage(Vote.decode(_expect_bytes(vote, "vote")))


def _txs(body: list[Any]) -> Message:
    (txs,) = _shape(body, 1, "txs")
    if type(txs) is not list or len(txs) > MAX_TX_BATCH:
        raise DecodeError(f"txs must be an array of at most {MAX_TX_BATCH}")
    return TxBatch([_expect_bytes(tx, "tx") for tx in txs])


def _status(body: list[Any]) -> Message:
    (height,) = _shape(body, 1, "status")
    return Status(_expect_int(height, "height"))


def _get_blocks(body: list[Any]) -> Message:
    from_height, count = _shape(body, 2, "get_blocks")
    return GetBlocks(_expect_int(from_height, "from_height"), min(_expect_int(count, "count"),
                                                           MAX_SYNC_BLOCKS))


def _blocks(body: list[Any]) -> Message:
    (items,) = _shape(body, 1, "blocks")
    if type(items) is not list or len(items) > MAX_SYNC_BLOCKS:
        raise DecodeError(f"blocks must be an array of at most {MAX_SYNC_BLOCKS}")
    decoded = []
    for item in items:
        if type(item) is not list or len(item) != 2:
            raise DecodeError("each synced block is [block, commit]")
        decoded.append((Block.decode(_expect_bytes(item[0], "block")),
                        Commit.decode(_expect_bytes(item[1], "commit"))))
    return Blocks(decoded)


_DECODERS = {"proposal": _proposal, "vote": _vote, "txs": _txs, "status": _status,
             "get_blocks": _get_blocks, "blocks": _blocks}
