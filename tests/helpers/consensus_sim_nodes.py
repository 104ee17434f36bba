"""The simulated validators of a consensus simulation.

``HonestNode`` wraps ``wattchain.consensus.driver.Driver``. It logs every
input to a ``MemoryWAL`` before acting on it and asks a ``MemorySignGuard``
before signing. A crash drops the volatile state (driver, timers, buffered
messages); the restart replays the WAL into a new driver and checks that the
replayed round state equals the one lost.

Tendermint's liveness assumes gossip: what one correct node received, all
receive. An honest node relays the others' messages it accepted when a
timeout of its current round fires (views may differ: an equivocator showed
peers different votes), and every accepted message of its height when that
height has not moved for a gossip period. A node that falls behind catches up
by block sync: it takes the decided block and commit of its height from a
reachable peer's store, after checking that the commit carries +2/3 valid
precommits for a valid block. The faulty kinds are in consensus_sim_byzantine.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from consensus_sim_checks import Committee, Records, commit_is_valid
from consensus_sim_config import SimConfig
from consensus_sim_network import CHAIN_ID, Network, encode_message

from wattchain import codec
from wattchain.consensus import safety
from wattchain.consensus.driver import Decision, Driver, RecordEvidence, Timeout
from wattchain.consensus.messages import NIL, InvalidMessage, Proposal
from wattchain.consensus.state_machine import (
    BroadcastProposal,
    BroadcastVote,
    GetValue,
    RoundState,
    Step,
)
from wattchain.crypto import PrivateKey
from wattchain.types import VOTE_PREVOTE, Vote

BUFFER_PER_HEIGHT = 64  # future-height messages kept per height and node
REJECTED, ACCEPTED, RELAYED = 0, 1, 2  # how a node's known message stands for relaying
Message = Vote | Proposal


@dataclass
class World:
    """What the nodes of one run share: who the validators are, the network,
    the records the checks read, and each other (for block sync)."""

    committee: Committee
    net: Network
    records: Records
    nodes: list[Node] = field(default_factory=list)

    @property
    def config(self) -> SimConfig:
        return self.committee.config

    def check_commit(self, height: int, record: tuple[int, bytes, tuple[Vote, ...]]) -> bool:
        return commit_is_valid(height, record, self.records.valid_blocks, self.net.signer,
                               self.committee.validator_set)


class Node:
    """The simulation-facing interface shared by every kind of node."""

    role = "byzantine"
    up = True

    def __init__(self, world: World, node_id: int, key: PrivateKey,
                 role: str | None = None) -> None:
        self.world, self.id, self.key, self.address = world, node_id, key, key.address
        self.net, self.records = world.net, world.records
        self.role = role or self.role
        self.peers: list[int] = []
        self.decided: dict[int, tuple[int, bytes, tuple[Vote, ...], bool]] = {}
        self.seen_votes: dict[tuple[bytes, int, int, int], set[bytes]] = {}
        self.evidence_slots: set[tuple[bytes, int, int, int]] = set()
        self.evidence: set[bytes] = set()

    def boot(self) -> None: ...

    def receive(self, source: int, wire: bytes) -> None: ...

    def crash(self) -> None: ...

    def restart(self) -> None: ...

    def broadcast(self, wire: bytes) -> None:
        for peer in self.peers:
            self.net.send(self.id, peer, wire)

    def sign_vote(self, vote_type: int, height: int, round_: int, block_hash: bytes) -> bytes:
        vote = Vote(vote_type, height, round_, block_hash, self.net.now, self.address)
        vote.signature = self.net.signer.sign(self.key, vote.sign_digest(CHAIN_ID))
        return encode_message(vote)

    def sign_proposal(self, height: int, round_: int, block_hash: bytes, pol_round: int
                      ) -> bytes:
        proposal = Proposal(height, round_, block_hash, pol_round, self.address)
        proposal.signature = self.net.signer.sign(self.key, proposal.sign_digest(CHAIN_ID))
        self.records.note_proposal(proposal)
        return encode_message(proposal)


class HonestNode(Node):
    """A correct validator around a Driver (also the code twins run)."""

    role = "honest"

    def __init__(self, world: World, node_id: int, key: PrivateKey,
                 role: str | None = None) -> None:
        super().__init__(world, node_id, key, role)
        self.wal = safety.MemoryWAL()
        self.guard = safety.MemorySignGuard()
        self.up = False
        self.epoch = 0  # bumped by a crash: timers of the old life are void
        self.height = 1
        self.driver: Driver | None = None
        self.buffer: dict[int, list[bytes]] = {}
        self.known: dict[bytes, int] = {}  # messages of this height -> REJECTED...
        self.local: deque[bytes] = deque()  # own messages delivered to itself
        self.replaying = False
        self.replay_timeouts: list[Timeout] = []
        self.lost_state: RoundState | None = None
        self.marker = 0  # the height at the last tick
        self.catching_up = 0  # the height a catch-up is scheduled for

    def new_driver(self) -> Driver:
        return self.world.config.driver_class(self.height, self.world.committee.schedule,
                                              self.address)

    # -- life cycle -----------------------------------------------------------------

    def boot(self) -> None:
        self.up = True
        self.enter_height(1)
        self.net.at(self.net.now + self.world.config.gossip_ms, self.tick, self.epoch)
        self.drain()

    def crash(self) -> None:
        if not self.up or self.driver is None:
            return
        self.lost_state = self.driver.state
        self.up, self.driver, self.epoch = False, None, self.epoch + 1
        self.buffer, self.known, self.local = {}, {}, deque()
        self.marker = self.catching_up = 0

    def restart(self) -> None:
        if self.up or self.lost_state is None:
            return
        self.up = True
        self.height = max(self.decided, default=0) + 1
        assert self.wal.height == self.height, "the WAL is not at the node's height"
        self.driver = self.new_driver()
        self.replaying, self.replay_timeouts = True, []
        self.act(self.driver.start())
        for entry in self.wal.replay():
            self.replay_entry(entry)
        self.replaying = False
        self.records.counters["restarts"] += 1
        if self.driver.state != self.lost_state:
            self.records.violations.append(f"wal: node {self.id} replayed to another state")
        for timeout in self.replay_timeouts:
            if timeout.round == self.driver.state.round:
                self.arm(timeout)
        self.net.at(self.net.now + self.world.config.gossip_ms, self.tick, self.epoch)
        self.drain()

    def replay_entry(self, entry: bytes) -> None:
        driver = self.driver
        assert driver is not None
        kind, body = entry[:1], entry[1:]
        if kind == b"m":
            message = self.net.verify(body[1:])
            assert message is not None
            self.known[body[1:]] = self.remember(message, self.feed(message, body[0] == 1))
        elif kind == b"t":
            step_, height, round_ = codec.decode(body)
            self.act(driver.on_timeout(Step(step_), height, round_))
        else:
            round_, value = codec.decode(body)
            self.act(driver.on_value(round_, value))

    def enter_height(self, height: int) -> None:
        self.height = height
        for old in [h for h in self.buffer if h <= height - 1]:
            del self.buffer[old]
        if height > self.world.config.heights:
            self.driver = None
            self.records.done += self.role == "honest"
            return
        if self.role == "honest":
            self.records.height_started.setdefault(height, self.net.now)
        self.wal.begin_height(height)
        self.known = {}
        self.driver = self.new_driver()
        self.act(self.driver.start())
        self.local.extend(self.buffer.pop(height, []))

    # -- inputs ---------------------------------------------------------------------

    def receive(self, source: int, wire: bytes) -> None:
        if not self.up or self.driver is None:
            return
        message = self.net.verify(wire)
        if message is None:
            return
        if message.height > self.height:
            self.hold(message.height, wire)
            if message.height >= self.height + 2:
                self.sync_from(self.world.nodes[source])
            elif self.catching_up != self.height:
                # the peer moved on: if we have not decided ourselves in two
                # message delays, fetch the block and commit from it
                self.catching_up = self.height
                self.net.at(self.net.now + 2 * self.world.config.max_delay_ms,
                            self.catch_up, self.epoch, self.height, source)
        elif message.height == self.height:
            self.deliver(message, wire)
        self.drain()

    def catch_up(self, epoch: int, height: int, source: int) -> None:
        if epoch == self.epoch and self.height == height and self.net.connected(self.id, source):
            self.sync_from(self.world.nodes[source])
            self.drain()

    def hold(self, height: int, wire: bytes) -> None:
        held = self.buffer.setdefault(height, [])
        if len(held) < BUFFER_PER_HEIGHT * self.world.config.validators:
            held.append(wire)

    def drain(self) -> None:
        while self.local and self.driver is not None:
            wire = self.local.popleft()
            message = self.net.verify(wire)
            assert message is not None
            if message.height == self.height:
                self.deliver(message, wire)
            elif message.height > self.height:
                self.hold(message.height, wire)

    def deliver(self, message: Message, wire: bytes) -> None:
        known = self.known  # feeding may decide, and the next height starts afresh
        if wire in known:
            return  # a duplicate: already logged and counted
        valid = isinstance(message, Proposal) and message.block_hash in self.records.valid_blocks
        self.wal.append(b"m" + (b"\x01" if valid else b"\x00") + wire)
        known[wire] = self.remember(message, self.feed(message, valid))

    def remember(self, message: Message, accepted: bool) -> int:
        """How a message of this height stands for relaying."""
        author = message.validator if isinstance(message, Vote) else message.proposer
        if not accepted:
            return REJECTED
        return RELAYED if author == self.address else ACCEPTED

    def feed(self, message: Message, valid: bool) -> bool:
        """Hand ``message`` to the driver; False if the driver rejected it."""
        driver = self.driver
        assert driver is not None
        try:
            if isinstance(message, Proposal):
                actions = driver.on_proposal(message, valid)
            else:
                if self.world.committee.validator_set.power_of(message.validator):
                    self.seen_votes.setdefault((message.validator, message.height,
                                                message.round, message.vote_type),
                                               set()).add(message.block_hash)
                actions = driver.on_vote(message)
        except InvalidMessage:
            return False
        self.act(actions)
        return True

    def on_timeout(self, epoch: int, step_: Step, height: int, round_: int) -> None:
        """A timeout of the current round means views may differ: relay the
        others' messages not relayed yet (e.g. an equivocator's second vote)."""
        if epoch != self.epoch or self.driver is None or height != self.height:
            return
        if round_ == self.driver.state.round:
            for wire, status in self.known.items():
                if status == ACCEPTED:
                    self.known[wire] = RELAYED
                    self.broadcast(wire)
        self.wal.append(b"t" + codec.encode([int(step_), height, round_]))
        self.act(self.driver.on_timeout(step_, height, round_))
        self.drain()

    def tick(self, epoch: int) -> None:
        """Same height for a gossip period: relay every accepted message of this
        height (own and others', as Tendermint's gossip assumes) and try block sync."""
        if epoch != self.epoch or self.driver is None:
            return
        if self.height == self.marker:
            for wire, status in self.known.items():
                if status != REJECTED:
                    self.broadcast(wire)
            peers = list(self.peers)
            self.net.rng.shuffle(peers)
            for peer in peers:
                if self.net.connected(self.id, peer) and self.sync_from(self.world.nodes[peer]):
                    break
        self.marker = self.height
        self.net.at(self.net.now + self.world.config.gossip_ms, self.tick, self.epoch)
        self.drain()

    def sync_from(self, peer: Node) -> bool:
        """Block sync: adopt ``peer``'s decided blocks for our heights, checked."""
        synced = False
        while self.driver is not None and self.height in peer.decided:
            round_, value, precommits, _ = peer.decided[self.height]
            if not peer.up or not self.world.check_commit(
                    self.height, (round_, value, precommits)):
                break
            self.decided[self.height] = (round_, value, precommits, True)
            self.records.counters["synced"] += 1
            self.enter_height(self.height + 1)
            synced = True
        return synced

    # -- actions --------------------------------------------------------------------

    def act(self, actions: list[Any]) -> None:
        driver = self.driver
        for action in actions:
            if self.driver is not driver:
                return  # decided: the rest belongs to the finished height
            kind = type(action)
            if kind is BroadcastVote:
                self.send_vote(action)
            elif kind is BroadcastProposal:
                self.send_proposal(action)
            elif kind is Timeout:
                self.arm(action)
            elif kind is GetValue:
                self.get_value(action)
            elif kind is Decision:
                self.decide(action)
            elif kind is RecordEvidence:
                evidence = action.evidence
                self.evidence.add(evidence.hash())
                first = evidence.first
                self.evidence_slots.add((first.validator, first.height, first.round,
                                         first.vote_type))

    def arm(self, timeout: Timeout) -> None:
        if self.replaying:
            self.replay_timeouts.append(timeout)
            return
        self.net.at(self.net.now + timeout.duration_ms, self.on_timeout, self.epoch,
                    timeout.step, timeout.height, timeout.round)

    def get_value(self, action: GetValue) -> None:
        if self.replaying:
            return  # the WAL holds the value given before the crash
        assert self.driver is not None
        value = self.records.new_block(self.height, action.round, self.id)
        self.wal.append(b"v" + codec.encode([action.round, value]))
        self.act(self.driver.on_value(action.round, value))

    def decide(self, decision: Decision) -> None:
        if self.replaying:
            self.records.violations.append(f"wal: node {self.id} decided during replay")
        self.decided[decision.height] = (decision.round, decision.block_hash,
                                         decision.precommits, False)
        self.enter_height(decision.height + 1)

    def send_vote(self, action: BroadcastVote) -> None:
        step_ = safety.STEP_PREVOTE if action.vote_type == VOTE_PREVOTE else safety.STEP_PRECOMMIT
        block_hash = action.value or NIL
        self.send_signed(action.round, step_, block_hash, lambda: self.sign_vote(
            action.vote_type, self.height, action.round, block_hash))

    def send_proposal(self, action: BroadcastProposal) -> None:
        self.send_signed(action.round, safety.STEP_PROPOSAL, action.value,
                         lambda: self.sign_proposal(self.height, action.round, action.value,
                                                    action.pol_round))

    def send_signed(self, round_: int, step_: int, block_hash: bytes,
                    sign: Callable[[], bytes]) -> None:
        """Ask the guard, sign (or take the message signed before), send, and
        deliver to ourselves; during replay only re-send the last message."""
        try:
            wire = self.guard.authorize(self.height, round_, step_, block_hash)
        except safety.DoubleSignRefused as exc:
            self.records.counters["sign refused"] += 1
            if not self.replaying:
                self.records.violations.append(f"double-sign refused live: node {self.id}: {exc}")
            return
        if wire is None:
            wire = sign()
            self.guard.record(safety.SignedSlot(self.height, round_, step_, block_hash, wire))
            if self.role == "honest":
                self.records.note_honest_signature(self.id, self.address,
                                                   (self.height, round_, step_), block_hash)
        else:
            self.records.counters["re-sent signed"] += 1
        self.broadcast(wire)
        if not self.replaying:
            self.local.append(wire)
