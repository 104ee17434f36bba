"""A peer sending junk is scored down and disconnected; the node keeps going."""

from __future__ import annotations

from pathlib import Path

from multinode_helpers import cluster

from wattchain.consensus.messages import Proposal
from wattchain.crypto import PrivateKey
from wattchain.node.p2p import wire
from wattchain.node.p2p.transport import CONSENSUS, SYNC, TXS, Frame
from wattchain.types import VOTE_PREVOTE, Block, Commit, Vote

STRANGER = PrivateKey(b"\x77" * 32)


def junk_frames(node_height: int, chain_id: str) -> list[tuple[str, bytes]]:
    stranger_vote = Vote(VOTE_PREVOTE, node_height + 1, 0, b"\x01" * 32, 1, STRANGER.address)
    stranger_vote.signature = STRANGER.sign_digest(stranger_vote.sign_digest(chain_id))
    return [
        (CONSENSUS, b"\xff\x00garbage"),  # not msgpack
        (CONSENSUS, wire.encode_status(3)[:-1]),  # truncated
        (TXS, b"\x92\xa3txs\x91\xc4\x03bad"),  # a batch of one undecodable tx
        (CONSENSUS, wire.encode_vote(stranger_vote)),  # a vote from outside the set
        ("/unknown/1.0.0", wire.encode_status(1)),
    ]


async def test_junk_is_penalised_then_the_peer_is_disconnected(tmp_path: Path) -> None:
    async with cluster(tmp_path) as group:
        await group.wait_for_height(2)
        node0, network = group.nodes["node0"], group.network_of("node0")
        sender = group.peer_id("node1")
        assert sender in network.peers()
        for protocol, data in junk_frames(node0.chain.height, node0.chain.chain_id):
            network._on_frame_safely(Frame(sender, protocol, data))
        assert sender not in network.peers()  # score reached zero: dropped
        before = node0.chain.height
        await group.wait_for_height(before + 2)  # and the chain goes on
        group.assert_agreement()


async def test_forged_votes_and_blocks_change_nothing(tmp_path: Path) -> None:
    async with cluster(tmp_path) as group:
        await group.wait_for_height(3)
        node0, network = group.nodes["node0"], group.network_of("node0")
        sender = group.peer_id("node2")
        height = node0.chain.height
        # a vote claiming to be node1's but signed by a stranger
        victim = group.nodes["node1"].validator_key.address
        forged = Vote(VOTE_PREVOTE, height + 1, 0, b"\x02" * 32, 1, victim)
        forged.signature = STRANGER.sign_digest(forged.sign_digest(node0.chain.chain_id))
        network._on_frame_safely(Frame(sender, CONSENSUS, wire.encode_vote(forged)))
        # a "synced" block whose commit carries no valid signatures
        block = Block.decode(node0.chain.store.block_bytes(height) or b"")
        fake = Block(block.header, block.txs, block.last_commit, block.evidence)
        fake.header.height = height + 1
        bad_commit = Commit(height + 1, 0, fake.hash(), [])
        network._on_frame_safely(Frame(sender, SYNC, wire.encode_blocks(
            [(fake.encode(), bad_commit.encode())])))
        # a proposal signed by someone who is not the proposer
        proposal = Proposal(height + 1, 0, fake.hash(), -1, STRANGER.address)
        proposal.signature = STRANGER.sign_digest(proposal.sign_digest(node0.chain.chain_id))
        network._on_frame_safely(Frame(sender, CONSENSUS,
                                       wire.encode_proposal(proposal, fake)))
        assert network.scores[sender] < 100
        await group.wait_for_height(height + 2)
        group.assert_agreement()
        assert node0.chain.store.block(height + 1) != fake
