"""The faulty validators of a consensus simulation: silent, equivocating and
junk-sending nodes (twins are honest nodes sharing one key)."""

from __future__ import annotations

from collections.abc import Callable

from consensus_sim_config import STRANGER, validator_key
from consensus_sim_network import KIND_VOTE, encode_message
from consensus_sim_nodes import HonestNode, Node, World

from wattchain import codec
from wattchain.consensus.messages import NIL, Proposal
from wattchain.consensus.safety import STEP_PREVOTE, STEP_PROPOSAL
from wattchain.crypto import PrivateKey
from wattchain.types import VOTE_PRECOMMIT, VOTE_PREVOTE, Vote


class SilentNode(Node):
    """A validator that never sends anything."""


class EquivocatorNode(HonestNode):
    """Runs the protocol but signs a second, conflicting version of every vote
    (nil against a block, a block nobody proposed against nil) and proposal
    (another valid block), and shows each peer one version or both."""

    role = "byzantine"

    def send_signed(self, round_: int, step_: int, block_hash: bytes,
                    sign: Callable[[], bytes]) -> None:
        primary = sign()
        if step_ == STEP_PROPOSAL:
            other = self.records.new_block(self.height, round_, 10_000 + self.id)
            alternate = self.sign_proposal(self.height, round_, other, -1)
        else:
            vote_type = VOTE_PREVOTE if step_ == STEP_PREVOTE else VOTE_PRECOMMIT
            other = NIL if block_hash else self.records.new_block(self.height, round_,
                                                                  -1 - self.id)
            alternate = self.sign_vote(vote_type, self.height, round_, other)
        rng = self.net.rng
        for peer in self.peers:
            draw = rng.random()
            versions = (primary,) if draw < 0.45 else (alternate,) if draw < 0.9 else (
                alternate, primary)
            for wire in versions:
                self.net.send(self.id, peer, wire)
        self.local.append(primary)


class JunkNode(Node):
    """Takes no part in the protocol; answers each correct proposal with
    garbage: undecodable bytes, votes for unknown blocks (two at once: an
    equivocation), far-future and past heights, forged signatures,
    a stranger's votes and an invalid block."""

    def __init__(self, world: World, node_id: int, key: PrivateKey,
                 role: str | None = None) -> None:
        super().__init__(world, node_id, key, role)
        self.seen: set[tuple[int, int]] = set()

    def receive(self, source: int, wire: bytes) -> None:
        message = self.net.verify(wire)
        faulty = self.world.committee.faulty_addresses
        if not isinstance(message, Proposal) or message.proposer in faulty or (
                (message.height, message.round) in self.seen):
            return  # answer correct proposals only: junk nodes must not feed each other
        height, round_ = message.height, message.round
        self.seen.add((height, round_))
        rng = self.net.rng
        unknown = [rng.randbytes(32) for _ in range(3)]
        victim = self.world.committee.keys[(self.id + 1) % len(self.world.committee.keys)].address
        forged = Vote(VOTE_PRECOMMIT, height, round_, unknown[0], 0, victim, rng.randbytes(32))
        stranger = Node(self.world, -1, validator_key(STRANGER))
        junk = [
            rng.randbytes(rng.randrange(40)),
            codec.encode([KIND_VOTE, [1, 2, 3]]),
            self.sign_vote(VOTE_PREVOTE, height, round_, unknown[0]),
            self.sign_vote(VOTE_PREVOTE, height, round_, unknown[1]),
            self.sign_vote(VOTE_PRECOMMIT, height, round_, unknown[2]),
            self.sign_vote(VOTE_PREVOTE, height + 3, round_, unknown[0]),
            self.sign_vote(VOTE_PRECOMMIT, max(height - 1, 0), round_, NIL),
            self.sign_vote(VOTE_PREVOTE, height, round_ + 1_000, NIL),
            encode_message(forged),
            stranger.sign_vote(VOTE_PREVOTE, height, round_, NIL),
            self.sign_proposal(height, round_, self.records.new_block(height, round_, self.id,
                                                                  valid=False), -1),
        ]
        for wire in junk:
            self.broadcast(wire)
