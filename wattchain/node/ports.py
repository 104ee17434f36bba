"""What the node's outer layers may ask of it: one port for RPC, one for the network.

The RPC server (``rpc*.py``) and the network service (``network.py``) import
this module and the data types it carries, never ``node.py``: ``Node``
implements both ports, and a test can serve either layer with a small fake.
As in CometBFT's ``rpc/core/env.go``, a port gathers narrow readers (the
block store, the mempool, the peers, the consensus state) rather than
handing out the whole node to reach through.

Every method is called from the node's single trio thread; none blocks
except ``wait_for_commit``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from wattchain.consensus.messages import Proposal
from wattchain.genesis import Genesis
from wattchain.modules.chain import Validator
from wattchain.node.config import RpcConfig
from wattchain.node.events import EventBus, Inclusion
from wattchain.node.metrics import NodeMetrics
from wattchain.node.store import ChainTip
from wattchain.types import Block, Commit, Event, Vote
from wattchain.vm.execution import TxResult

__all__ = ["BlockReader", "ConsensusState", "Inclusion", "MempoolReader", "NetworkPort",
           "NodeIdentity", "RpcPort"]


@dataclass(frozen=True, slots=True)
class NodeIdentity:
    """Who the node is: fixed from start-up to shutdown."""

    moniker: str
    mode: str  # "validator" or "observer"
    address: bytes  # of the validator key
    public_key: bytes


@dataclass(frozen=True, slots=True)
class ConsensusState:
    """Where consensus is: the height being decided and its round and step;
    between two heights ``round`` is None and ``step`` is "waiting"."""

    height: int
    round: int | None
    step: str


class BlockReader(Protocol):
    """The committed chain as the block store keeps it (None: not stored)."""

    def block(self, height: int) -> Block | None: ...

    def commit(self, height: int) -> Commit | None: ...

    def results(self, height: int) -> tuple[list[TxResult], list[Event]] | None: ...

    def app_hash(self, height: int) -> bytes | None: ...

    def height_of(self, block_hash: bytes) -> int | None: ...

    def tx_position(self, tx_id: bytes) -> tuple[int, int] | None:
        """(height, index) of a committed tx."""
        ...

    def search_txs(self, prefix: bytes, limit: int, offset: int = 0) -> tuple[list[bytes], int]:
        """Tx ids under an index prefix in chain order, and the total count."""
        ...


class MempoolReader(Protocol):
    """The pending txs, as far as RPC may look."""

    size_bytes: int
    high_water: int  # RPC refuses txs as busy from this many pending on

    def __len__(self) -> int: ...

    def __contains__(self, tx_id: bytes) -> bool: ...


class TxIntake(Protocol):
    """Where transactions enter the node (from a client or from a peer)."""

    def preverify(self, raws: list[bytes]) -> None:
        """Verify the signatures of a batch about to be submitted (a speed-up only)."""
        ...

    def submit_tx(self, raw: bytes, gossip: bool = True) -> bytes:
        """Admit ``raw`` to the mempool, and pass it on to peers if ``gossip``;
        return its id or raise a TxError (the mempool is then unchanged)."""
        ...


class RpcPort(TxIntake, Protocol):
    """What the RPC layer may ask of a node. The attributes are fixed for the
    node's life (``rpc_urls`` is filled in once the server listens)."""

    identity: NodeIdentity
    rpc_config: RpcConfig
    rpc_urls: list[str]
    genesis: Genesis
    metrics: NodeMetrics
    bus: EventBus  # the events of committed blocks, for websocket subscriptions

    @property
    def blocks(self) -> BlockReader: ...

    @property
    def mempool(self) -> MempoolReader: ...

    def tip(self) -> ChainTip:
        """The last committed block (height initial_height - 1 before the first)."""
        ...

    def validators(self) -> Sequence[Validator]:
        """The validator set that decides the next height."""
        ...

    def consensus_state(self) -> ConsensusState: ...

    def query(self, path: str, data: dict[str, Any]) -> Any:
        """A module query against the latest committed state; raises
        vm.errors.QueryError for an unknown path or bad arguments."""
        ...

    def peers(self) -> list[str]:
        """Ids of the connected peers ([] without a network)."""
        ...

    def peer_heights(self) -> Mapping[str, int]:
        """The last height each peer announced."""
        ...

    def p2p_addresses(self) -> list[str]:
        """The addresses the node listens on for peers."""
        ...

    async def wait_for_commit(self, tx_id: bytes, timeout_s: float) -> Inclusion | None:
        """Wait until ``tx_id`` is committed; None if ``timeout_s`` passes first."""
        ...


class NetworkPort(TxIntake, Protocol):
    """What the network layer may ask of a node: the consensus inputs peers
    send, block sync, and transaction gossip."""

    chain_id: str
    metrics: NodeMetrics

    def committed_height(self) -> int: ...

    def consensus_round(self) -> int | None:
        """The round of the height being decided; None between heights (a
        message for the next height must then wait)."""
        ...

    def validator_public_key(self, address: bytes) -> bytes | None:
        """The public key of a validator of the height being decided, or None."""
        ...

    def receive_proposal(self, proposal: Proposal, block: Block) -> None:
        """Hand a proposal whose signature was checked to consensus, and run it."""
        ...

    def receive_vote(self, vote: Vote) -> None:
        """Hand a vote whose signature was checked to consensus, and run it."""
        ...

    def height_messages(self) -> list[bytes]:
        """The encoded proposals and votes known for the current height, to relay."""
        ...

    def committed_block(self, height: int) -> tuple[bytes, bytes] | None:
        """The encoded block and commit at ``height``, if stored."""
        ...

    def commit_synced(self, block: Block, commit: Commit) -> None:
        """Execute and store a block fetched from a peer; raises InvalidBlock
        unless ``commit`` decides it for the next height."""
        ...
