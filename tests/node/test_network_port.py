"""The network layer against a fake of its port (``ports.NetworkPort``) and a fake
transport: frames in, calls on the port out; junk costs the sender score."""

from __future__ import annotations

import pytest
import trio

from wattchain.consensus.application import InvalidBlock
from wattchain.consensus.messages import Proposal
from wattchain.crypto import PrivateKey
from wattchain.node.metrics import NodeMetrics
from wattchain.node.network import MAX_FUTURE_HEIGHTS, PENALTY, START_SCORE, NetworkService
from wattchain.node.p2p import wire
from wattchain.node.p2p.transport import CONSENSUS, SYNC, TXS, Frame, Incoming, PeerEvent
from wattchain.node.ports import NetworkPort
from wattchain.types import VOTE_PREVOTE, Block, Commit, Header, Vote
from wattchain.vm.errors import FeeTooLow, MalformedTx, TxError

CHAIN_ID = "wattchain-fake"
VALIDATORS = [PrivateKey(bytes([i]) * 32) for i in (1, 2, 3)]
STRANGER = PrivateKey(b"\x77" * 32)
PEER = "peer-a"
OTHER = "peer-b"


class FakeNode:
    """Implements NetworkPort: a chain at ``height`` deciding ``height + 1``;
    records every call the network makes."""

    chain_id = CHAIN_ID

    def __init__(self) -> None:
        self.metrics = NodeMetrics()
        self.height = 4
        self.round: int | None = 0
        self.keys = {key.address: key.public_key for key in VALIDATORS}
        self.proposals: list[Proposal] = []
        self.votes: list[Vote] = []
        self.synced: list[int] = []
        self.submitted: list[bytes] = []
        self.preverified: list[list[bytes]] = []
        self.refuse: dict[bytes, TxError] = {}
        self.bad_sync: Exception | None = None
        self.relay = [b"own-vote"]

    def committed_height(self) -> int:
        return self.height

    def consensus_round(self) -> int | None:
        return self.round

    def validator_public_key(self, address: bytes) -> bytes | None:
        return self.keys.get(address)

    def receive_proposal(self, proposal: Proposal, block: Block) -> None:
        self.proposals.append(proposal)

    def receive_vote(self, vote: Vote) -> None:
        self.votes.append(vote)

    def height_messages(self) -> list[bytes]:
        return self.relay

    def committed_block(self, height: int) -> tuple[bytes, bytes] | None:
        return stored(height) if height <= self.height else None

    def commit_synced(self, block: Block, commit: Commit) -> None:
        if self.bad_sync is not None:
            raise self.bad_sync
        self.synced.append(block.header.height)
        self.height = block.header.height

    def preverify(self, raws: list[bytes]) -> None:
        self.preverified.append(raws)

    def submit_tx(self, raw: bytes, gossip: bool = True) -> bytes:
        assert not gossip  # what peers sent is not sent back out
        if raw in self.refuse:
            raise self.refuse[raw]
        self.submitted.append(raw)
        return raw


class FakeTransport:
    local_id = "me"

    def __init__(self) -> None:
        self.connected = [PEER, OTHER]
        self.sent: list[tuple[str, str, bytes]] = []

    async def run(self, incoming: trio.MemorySendChannel[Incoming], *,
                  task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started([])  # the tests hand frames to the service directly

    def send(self, peer: str, protocol: str, data: bytes) -> bool:
        self.sent.append((peer, protocol, data))
        return True

    def peers(self) -> list[str]:
        return list(self.connected)

    def disconnect(self, peer: str) -> None:
        self.connected.remove(peer)

    def sent_messages(self, peer: str) -> list[wire.Message]:
        return [wire.decode_message(data) for to, _, data in self.sent if to == peer]


def make_block(height: int) -> Block:
    header = Header(CHAIN_ID, height, 1_000 + height, VALIDATORS[0].address, b"\x00" * 32,
                    b"\x00" * 32, b"\x00" * 32, b"\x00" * 32, b"")
    return Block(header, [], None)


def vote(signer: PrivateKey, height: int, validator: bytes | None = None) -> bytes:
    message = Vote(VOTE_PREVOTE, height, 0, b"\x01" * 32, 1, validator or signer.address)
    message.signature = signer.sign_digest(message.sign_digest(CHAIN_ID))
    return wire.encode_vote(message)


def proposal(signer: PrivateKey, height: int, proposer: bytes | None = None) -> bytes:
    block = make_block(height)
    message = Proposal(height, 0, block.hash(), -1, proposer or signer.address)
    message.signature = signer.sign_digest(message.sign_digest(CHAIN_ID))
    return wire.encode_proposal(message, block)


@pytest.fixture
def node() -> FakeNode:
    return FakeNode()


@pytest.fixture
def transport() -> FakeTransport:
    return FakeTransport()


@pytest.fixture
def network(node: FakeNode, transport: FakeTransport) -> NetworkService:
    port: NetworkPort = node
    return NetworkService(port, transport)


def stored(height: int) -> tuple[bytes, bytes]:
    """The encoded block at ``height`` and an (unsigned) commit of it."""
    block = make_block(height)
    return block.encode(), Commit(height, 0, block.hash(), []).encode()


def blocks_frame(*heights: int) -> bytes:
    return wire.encode_blocks([stored(height) for height in heights])


def receive(network: NetworkService, protocol: str, data: bytes, peer: str = PEER) -> None:
    network._on_frame_safely(Frame(peer, protocol, data))


def score(network: NetworkService, peer: str = PEER) -> int:
    return network.scores[peer]


# -- consensus messages -------------------------------------------------------------


async def test_signed_proposals_and_votes_reach_consensus(network: NetworkService,
                                                          node: FakeNode) -> None:
    receive(network, CONSENSUS, proposal(VALIDATORS[1], 5))
    receive(network, CONSENSUS, vote(VALIDATORS[2], 5))
    assert [p.proposer for p in node.proposals] == [VALIDATORS[1].address]
    assert [v.validator for v in node.votes] == [VALIDATORS[2].address]
    assert score(network) == START_SCORE


async def test_forged_or_foreign_messages_cost_score(network: NetworkService,
                                                     node: FakeNode) -> None:
    receive(network, CONSENSUS, vote(STRANGER, 5))  # not a validator
    receive(network, CONSENSUS, vote(STRANGER, 5, validator=VALIDATORS[1].address))  # forged
    receive(network, CONSENSUS, proposal(STRANGER, 5, proposer=VALIDATORS[0].address))
    assert node.votes == [] and node.proposals == []
    assert score(network) == START_SCORE - 3 * PENALTY


async def test_early_messages_wait_for_their_height(network: NetworkService,
                                                    node: FakeNode) -> None:
    receive(network, CONSENSUS, vote(VALIDATORS[1], 6))  # the height after next
    receive(network, CONSENSUS, vote(VALIDATORS[1], 5 + MAX_FUTURE_HEIGHTS + 1))  # too far
    receive(network, CONSENSUS, vote(VALIDATORS[1], 4))  # decided already: ignored
    node.round = None
    receive(network, CONSENSUS, vote(VALIDATORS[2], 5))  # consensus has not started 5
    assert node.votes == [] and network.future_count == 2
    node.round = 0
    network.on_height_started()
    assert [v.height for v in node.votes] == [5]
    node.height = 5
    network.on_height_started()
    assert [v.height for v in node.votes] == [5, 6]
    assert network.future_count == 0 and score(network) == START_SCORE


# -- transactions ---------------------------------------------------------------------


async def test_tx_batches_are_preverified_then_submitted(network: NetworkService,
                                                         node: FakeNode) -> None:
    node.refuse[b"cheap"] = FeeTooLow("fee too low")  # a peer may pass on such a tx
    receive(network, TXS, wire.encode_txs([b"one", b"cheap", b"two"]))
    assert node.preverified == [[b"one", b"cheap", b"two"]]
    assert node.submitted == [b"one", b"two"]
    assert score(network) == START_SCORE
    node.refuse[b"junk"] = MalformedTx("undecodable")
    receive(network, TXS, wire.encode_txs([b"junk", b"junk"]))
    assert score(network) == START_SCORE - PENALTY  # one penalty per batch


# -- block sync -----------------------------------------------------------------------


async def test_a_peer_ahead_is_asked_for_blocks_which_are_committed(
        network: NetworkService, node: FakeNode, transport: FakeTransport) -> None:
    receive(network, SYNC, wire.encode_status(9))
    assert transport.sent_messages(PEER) == [wire.GetBlocks(5, 20)]
    receive(network, SYNC, blocks_frame(5, 6))
    assert node.synced == [5, 6]
    assert network.blocks_synced == 2


async def test_blocks_are_served_up_to_the_tip(network: NetworkService,
                                               transport: FakeTransport) -> None:
    receive(network, SYNC, wire.encode_get_blocks(3, 10), peer=OTHER)
    (reply,) = transport.sent_messages(OTHER)
    assert isinstance(reply, wire.Blocks)
    assert [block.header.height for block, _ in reply.items] == [3, 4]


async def test_an_invalid_synced_block_costs_score(network: NetworkService,
                                                   node: FakeNode) -> None:
    node.bad_sync = InvalidBlock("synced block 5: no quorum")
    receive(network, SYNC, blocks_frame(5))
    assert node.synced == [] and score(network) == START_SCORE - PENALTY


# -- junk and peers ---------------------------------------------------------------------


async def test_junk_costs_score_until_the_peer_is_dropped(network: NetworkService,
                                                          transport: FakeTransport) -> None:
    junk = [(CONSENSUS, b"\xff\x00garbage"), (CONSENSUS, wire.encode_status(3)[:-1]),
            ("/unknown/1.0.0", wire.encode_status(1)), (SYNC, b"\x91\xa6blocks")]
    for protocol, data in junk[:-1]:
        receive(network, protocol, data)
    assert score(network) == START_SCORE - 3 * PENALTY and PEER in transport.peers()
    receive(network, *junk[-1])
    assert transport.peers() == [OTHER]


async def test_a_bug_behind_the_port_costs_score_not_the_node(network: NetworkService,
                                                              node: FakeNode) -> None:
    node.bad_sync = RuntimeError("a bug")
    receive(network, SYNC, blocks_frame(5))
    assert score(network) == START_SCORE - PENALTY


async def test_a_new_peer_gets_our_height_and_this_heights_messages(
        network: NetworkService, transport: FakeTransport) -> None:
    network._on_peer(PeerEvent(PEER, connected=True))
    assert transport.sent == [(PEER, SYNC, wire.encode_status(4)),
                              (PEER, CONSENSUS, b"own-vote")]
    receive(network, SYNC, wire.encode_status(2))
    assert network.peer_heights == {PEER: 2}
    network._on_peer(PeerEvent(PEER, connected=False))
    assert network.peer_heights == {}
