"""A deterministic discrete-event simulation of Tendermint validators.

Nodes wrap ``wattchain.consensus.driver.Driver`` and talk over an in-memory
network driven by one seeded ``random.Random``: every delay, drop, duplicate
and Byzantine choice comes from it, and time is a virtual clock (a heap of
``(time_ms, seq, callback, args)``), so a config reproduces its run exactly.

The network is lossy (drops, partitions) until ``stable_ms`` (GST) and
reliable afterwards; delays stay random, which also reorders messages. Tendermint's
liveness assumes gossip: what one correct node received, all receive. Here an
honest node relays the others' messages it accepted when a timeout of its
current round fires (views may differ: an equivocator showed peers different
votes), and every accepted message of its height when that height has not
moved for a gossip period. A node that falls behind catches up by block sync:
it takes the decided block and commit of its height from a reachable peer's
store, after checking that the commit carries +2/3 valid precommits for a
valid block.

Honest nodes log every input to a ``MemoryWAL`` before acting on it and ask a
``MemorySignGuard`` before signing. A crash drops the volatile state (driver,
timers, buffered messages); the restart replays the WAL into a new driver and
checks that the replayed round state equals the one lost.

``check`` returns the violated properties of a finished run: agreement,
validity, liveness (every honest node reaches the target height, and heights
started after GST decide within a bounded number of rounds), evidence for
every equivocation an honest node saw, and no honest double signing.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import itertools
import random
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from wattchain import codec
from wattchain.consensus.driver import Decision, Driver, RecordEvidence, Timeout
from wattchain.consensus.messages import (
    NIL,
    InvalidMessage,
    Proposal,
    proposal_signer,
    vote_signer,
)
from wattchain.consensus.safety import (
    STEP_PRECOMMIT,
    STEP_PREVOTE,
    STEP_PROPOSAL,
    DoubleSignRefused,
    MemorySignGuard,
    MemoryWAL,
    SignedSlot,
)
from wattchain.consensus.state_machine import (
    BroadcastProposal,
    BroadcastVote,
    GetValue,
    RoundState,
    Step,
)
from wattchain.consensus.validator_set import ProposerSchedule, ValidatorInfo, ValidatorSet
from wattchain.crypto import PrivateKey, address_of
from wattchain.errors import DecodeError
from wattchain.types import VOTE_PRECOMMIT, VOTE_PREVOTE, Vote

CHAIN_ID = "wattchain-sim"
KIND_VOTE, KIND_PROPOSAL = 0, 1
BUFFER_PER_HEIGHT = 64  # future-height messages kept per height and node
REJECTED, ACCEPTED, RELAYED = 0, 1, 2  # how a node's known message stands for relaying
Message = Vote | Proposal


@functools.cache
def validator_key(index: int) -> PrivateKey:
    return PrivateKey((index + 1).to_bytes(32, "big"))


STRANGER = 999  # key index of a signer outside every validator set


# -- signatures ---------------------------------------------------------------------


class FakeSigner:
    """signature = sha256(secret || digest), checked by recomputation: a fast
    stand-in for secp256k1 that still rejects forged and tampered messages."""

    def __init__(self, keys: Iterable[PrivateKey]) -> None:
        self.secrets = {key.address: key.secret for key in keys}

    def sign(self, key: PrivateKey, digest: bytes) -> bytes:
        return hashlib.sha256(self.secrets[key.address] + digest).digest()

    def is_signed_by(self, address: bytes, message: Message) -> bool:
        secret = self.secrets.get(address)
        return secret is not None and message.signature == hashlib.sha256(
            secret + message.sign_digest(CHAIN_ID)).digest()


class RealSigner:
    """secp256k1 through wattchain.crypto and messages.vote_signer."""

    def sign(self, key: PrivateKey, digest: bytes) -> bytes:
        return key.sign_digest(digest)

    def is_signed_by(self, address: bytes, message: Message) -> bool:
        try:
            if isinstance(message, Vote):
                return address_of(vote_signer(message, CHAIN_ID)) == address
            return address_of(proposal_signer(message, CHAIN_ID)) == address
        except InvalidMessage:
            return False


def encode_message(message: Message) -> bytes:
    kind = KIND_VOTE if isinstance(message, Vote) else KIND_PROPOSAL
    return codec.encode([kind, message.to_list()])


def decode_message(wire: bytes) -> Message | None:
    try:
        value = codec.decode(wire)
        if type(value) is not list or len(value) != 2:
            return None
        if value[0] == KIND_VOTE:
            return Vote.from_list(value[1])
        if value[0] == KIND_PROPOSAL:
            return Proposal.from_list(value[1])
    except DecodeError:
        return None
    return None


# -- configuration --------------------------------------------------------------------


@dataclass(frozen=True)
class Partition:
    """Between start_ms and end_ms only nodes of the same group can talk."""

    start_ms: int
    end_ms: int
    groups: tuple[tuple[int, ...], ...]  # node ids; a node in no group is cut off


@dataclass(frozen=True)
class Crash:
    node: int
    at_ms: int
    down_ms: int


@dataclass(frozen=True)
class SimConfig:
    validators: int = 4
    heights: int = 20
    seed: int = 0
    powers: tuple[int, ...] = ()  # default: power 1 each
    min_delay_ms: int = 5
    max_delay_ms: int = 60
    drop_rate: float = 0.0
    duplicate_rate: float = 0.0
    lossy_until_ms: int = 0  # drops stop here
    partitions: tuple[Partition, ...] = ()
    crashes: tuple[Crash, ...] = ()
    byzantine: tuple[tuple[int, str], ...] = ()  # (validator, "equivocate"|"silent"|"junk")
    twins: tuple[int, ...] = ()  # validators run as two nodes; copy k is node validators + k
    real_signatures: bool = False
    driver_class: type[Driver] = Driver
    gossip_ms: int = 1_000

    @property
    def stable_ms(self) -> int:
        """GST: no drops, partitions or crashed nodes from here on."""
        ends = [self.lossy_until_ms if self.drop_rate else 0]
        ends += [p.end_ms for p in self.partitions]
        ends += [c.at_ms + c.down_ms for c in self.crashes]
        return max(ends)

    @property
    def faulty(self) -> set[int]:
        return {index for index, _ in self.byzantine} | set(self.twins)


@dataclass
class SimResult:
    config: SimConfig
    decisions: dict[int, dict[int, tuple[int, bytes, bool]]]  # node -> height -> (r, v, synced)
    violations: list[str]
    messages: int  # point-to-point sends, retransmissions included
    end_ms: int
    wall_s: float
    max_round: int
    evidence: int  # evidence items recorded by honest nodes
    counters: Counter[str]

    @property
    def heights(self) -> int:
        return self.config.heights

    def repro(self) -> str:
        driver = self.config.driver_class
        return f"run_simulation({self.config!r})".replace(repr(driver), driver.__name__)


# -- the simulation -------------------------------------------------------------------


class Simulation:
    """One run: the nodes, the network, the virtual clock and the records the
    properties are checked against."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        count = config.validators
        self.keys = [validator_key(i) for i in range(count)]
        powers = config.powers or (1,) * count
        self.validator_set = ValidatorSet(
            ValidatorInfo(key.public_key, power) for key, power in zip(self.keys, powers,
                                                                          strict=True))
        self.schedule = ProposerSchedule(self.validator_set, 1)
        self.signer: FakeSigner | RealSigner = (
            RealSigner() if config.real_signatures
            else FakeSigner([*self.keys, validator_key(STRANGER)]))
        self.queue: list[tuple[int, int, Callable[..., None], tuple[Any, ...]]] = []
        self.sequence = itertools.count()
        self.now = 0
        self.messages = 0
        self.delay_span = config.max_delay_ms - config.min_delay_ms + 1
        self.verified: dict[bytes, Message | None] = {}
        self.valid_blocks: set[bytes] = set()
        self.proposed: dict[tuple[int, int], set[tuple[bytes, bytes]]] = {}
        self.honest_signed: dict[tuple[bytes, int, int, int], bytes] = {}
        self.height_started: dict[int, int] = {}
        self.violations: list[str] = []
        self.counters: Counter[str] = Counter()  # restarts, syncs, refusals...
        self.done = 0
        self.nodes = self._make_nodes()
        self.honest = [n for n in self.nodes if n.role == "honest"]
        self.honest_addresses = {n.address for n in self.honest}
        self.faulty_addresses = {self.keys[index].address for index in config.faulty}
        self.groups = [self._group_index(p) for p in config.partitions]
        self.partitions_end = max((p.end_ms for p in config.partitions), default=0)

    def _make_nodes(self) -> list[Node]:
        kinds = dict(self.config.byzantine)
        node_types: dict[str, type[Node]] = {
            "equivocate": EquivocatorNode, "silent": SilentNode, "junk": JunkNode}
        nodes: list[Node] = []
        for index, key in enumerate(self.keys):
            node_type = node_types[kinds[index]] if index in kinds else HonestNode
            role = "twin" if index in self.config.twins else None
            nodes.append(node_type(self, index, key, role))
        for index in self.config.twins:
            nodes.append(HonestNode(self, len(nodes), self.keys[index], "twin"))
        for node in nodes:
            node.peers = [other.id for other in nodes if other is not node]
        return nodes

    def _group_index(self, partition: Partition) -> dict[int, int]:
        index = {node.id: -1 - node.id for node in self.nodes}
        for number, group in enumerate(partition.groups):
            index.update(dict.fromkeys(group, number))
        return index

    # -- clock and network ----------------------------------------------------------

    def at(self, time_ms: int, callback: Callable[..., None], *args: Any) -> None:
        heapq.heappush(self.queue, (time_ms, next(self.sequence), callback, args))

    def connected(self, source: int, target: int) -> bool:
        if self.now >= self.partitions_end:
            return True
        for partition, groups in zip(self.config.partitions, self.groups, strict=True):
            if partition.start_ms <= self.now < partition.end_ms:
                return groups[source] == groups[target]
        return True

    def send(self, source: int, target: int, wire: bytes) -> None:
        self.messages += 1
        config, rng = self.config, self.rng
        if not self.connected(source, target):
            return
        if config.drop_rate and self.now < config.lossy_until_ms and (
                rng.random() < config.drop_rate):
            return
        arrival = self.now + config.min_delay_ms + int(rng.random() * self.delay_span)
        self.at(arrival, self.nodes[target].receive, source, wire)
        if config.duplicate_rate and rng.random() < config.duplicate_rate:
            later = arrival + int(rng.random() * self.delay_span)
            self.at(later, self.nodes[target].receive, source, wire)

    def verify(self, wire: bytes) -> Message | None:
        """Decode and check the signature once per distinct message (a shared
        stand-in for each node's signature cache)."""
        try:
            return self.verified[wire]
        except KeyError:
            pass
        message = decode_message(wire)
        if message is not None:
            signer = message.validator if isinstance(message, Vote) else message.proposer
            if not self.signer.is_signed_by(signer, message):
                message = None
        if message is None:
            self.counters["rejected"] += 1
        self.verified[wire] = message
        return message

    # -- the application ------------------------------------------------------------

    def new_block(self, height: int, round_: int, author: int, valid: bool = True) -> bytes:
        block = hashlib.sha256(f"block/{height}/{round_}/{author}/{valid}".encode()).digest()
        if valid:
            self.valid_blocks.add(block)
        return block

    def note_proposal(self, proposal: Proposal) -> None:
        self.proposed.setdefault((proposal.height, proposal.round), set()).add(
            (proposal.proposer, proposal.block_hash))

    def note_honest_signature(self, node: Node, slot: tuple[int, int, int],
                              block_hash: bytes) -> None:
        key = (node.address, *slot)
        if self.honest_signed.setdefault(key, block_hash) != block_hash:
            self.violations.append(f"double-sign: honest node {node.id} at {slot}")

    def check_commit(self, height: int, record: tuple[int, bytes, tuple[Vote, ...]]) -> bool:
        """+2/3 of the power precommitted the (valid) block, with good signatures."""
        round_, block_hash, precommits = record
        if block_hash not in self.valid_blocks:
            return False
        power, seen = 0, set()
        for vote in precommits:
            if (vote.vote_type, vote.height, vote.round, vote.block_hash) != (
                    VOTE_PRECOMMIT, height, round_, block_hash) or vote.validator in seen:
                return False
            if not self.signer.is_signed_by(vote.validator, vote):
                return False
            seen.add(vote.validator)
            power += self.validator_set.power_of(vote.validator)
        return self.validator_set.has_quorum(power)

    # -- running --------------------------------------------------------------------

    def run(self) -> SimResult:
        started = time.perf_counter()
        config = self.config
        for node in self.nodes:
            self.at(0, node.boot)
        for crash in config.crashes:
            self.at(crash.at_ms, self.nodes[crash.node].crash)
            self.at(crash.at_ms + crash.down_ms, self.nodes[crash.node].restart)
        deadline = config.stable_ms + 30_000 + 3_000 * config.heights
        queue = self.queue
        while queue and self.done < len(self.honest):
            time_ms, _, callback, args = heapq.heappop(queue)
            if time_ms > deadline:
                break
            self.now = time_ms
            callback(*args)
        return self._result(time.perf_counter() - started)

    def _result(self, wall_s: float) -> SimResult:
        decisions = {node.id: {h: (r, v, synced) for h, (r, v, _, synced) in
                               node.decided.items()} for node in self.nodes}
        max_round = max((r for node in self.honest for r, _, _, _ in node.decided.values()),
                        default=0)
        return SimResult(self.config, decisions, self.check(), self.messages, self.now,
                         wall_s, max_round, sum(len(n.evidence) for n in self.honest),
                         self.counters)

    # -- properties -----------------------------------------------------------------

    def check(self) -> list[str]:
        violations = list(self.violations)
        target = self.config.heights
        for height in range(1, target + 1):
            values = {node.decided[height][1] for node in self.honest if height in node.decided}
            if len(values) > 1:
                violations.append(f"agreement: height {height} has {len(values)} decisions")
        for node in self.honest:
            for height, (round_, value, _, _) in node.decided.items():
                proposer = self.schedule.proposer(height, round_)
                if (proposer, value) not in self.proposed.get((height, round_), set()) or (
                        value not in self.valid_blocks):
                    violations.append(f"validity: node {node.id} height {height}")
            missing = [h for h in range(1, target + 1) if h not in node.decided]
            if missing:
                violations.append(f"liveness: node {node.id} never decided height {missing[0]}")
            for slot, values in node.seen_votes.items():
                if len(values) > 1 and slot not in node.evidence_slots:
                    violations.append(f"evidence: node {node.id} missed equivocation {slot}")
            for validator, _, _, _ in node.evidence_slots:
                if validator in self.honest_addresses:
                    violations.append(f"evidence: against honest validator by {node.id}")
        violations += self._check_round_bound()
        return violations

    def _check_round_bound(self) -> list[str]:
        """After GST a fresh height ends within one round per turn of a faulty
        proposer, plus a correct proposer's round, plus two rounds in which a
        correct proposer may still lack the latest valid value (it joined the
        height late). The suite's schedules never needed more than the faulty
        turns plus two."""
        bound = sum(self.validator_set.power_of(self.keys[i].address)
                    for i in self.config.faulty) + 3
        stable = self.config.stable_ms
        violations = []
        for height, started in self.height_started.items():
            rounds = [node.decided[height][0] for node in self.honest if height in node.decided]
            if started >= stable and rounds and max(rounds) > bound:
                violations.append(f"liveness: height {height} took {max(rounds)} rounds")
        return violations


def make_schedule(validators: int, heights: int, seed: int, *, faults: Sequence[str] = (),
                  faulty: Sequence[int] | None = None, partitions: int = 0, crashes: int = 0,
                  drop_rate: float = 0.0, duplicate_rate: float = 0.0, max_delay_ms: int = 60,
                  **options: Any) -> SimConfig:
    """A concrete fault schedule drawn from ``seed``. ``faults`` holds "equivocate",
    "silent", "junk" or "twin" per faulty validator (``faulty`` names them, else
    they are drawn); partition phases (twin copies always on opposite sides),
    crashes of honest nodes and the end of the lossy period all come from
    ``random.Random(seed)``."""
    rng = random.Random(seed)
    if faulty is None:
        faulty = rng.sample(range(validators), len(faults))
    twins = tuple(v for v, kind in zip(faulty, faults, strict=True) if kind == "twin")
    byzantine = tuple((v, kind) for v, kind in zip(faulty, faults, strict=True)
                      if kind != "twin")
    node_ids = list(range(validators + len(twins)))
    phases, start = [], rng.randrange(1_500)
    for _ in range(partitions):
        end = start + rng.randrange(300, 4_000)
        others = [n for n in node_ids if n not in twins and n < validators]
        rng.shuffle(others)
        cut = rng.randrange(1, len(others))
        sides = [others[:cut], others[cut:]]
        for copy, original in enumerate(twins):
            side = rng.randrange(2)
            sides[side].append(original)
            sides[1 - side].append(validators + copy)
        phases.append(Partition(start, end, (tuple(sides[0]), tuple(sides[1]))))
        start = end + rng.randrange(1_500)
    honest = [n for n in range(validators) if n not in faulty]
    crash_list = tuple(Crash(rng.choice(honest), rng.randrange(6_000), rng.randrange(100, 4_000))
                       for _ in range(crashes))
    return SimConfig(validators=validators, heights=heights, seed=seed,
                     max_delay_ms=max_delay_ms, drop_rate=drop_rate,
                     duplicate_rate=duplicate_rate,
                     lossy_until_ms=rng.randrange(1_000, 8_000) if drop_rate else 0,
                     partitions=tuple(phases), crashes=crash_list, byzantine=byzantine,
                     twins=twins, **options)


def run_simulation(config: SimConfig) -> SimResult:
    return Simulation(config).run()


# -- nodes ----------------------------------------------------------------------------


class Node:
    """The simulation-facing interface shared by every kind of node."""

    role = "byzantine"
    up = True

    def __init__(self, sim: Simulation, node_id: int, key: PrivateKey,
                 role: str | None = None) -> None:
        self.sim, self.id, self.key, self.address = sim, node_id, key, key.address
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
            self.sim.send(self.id, peer, wire)

    def sign_vote(self, vote_type: int, height: int, round_: int, block_hash: bytes) -> bytes:
        vote = Vote(vote_type, height, round_, block_hash, self.sim.now, self.address)
        vote.signature = self.sim.signer.sign(self.key, vote.sign_digest(CHAIN_ID))
        return encode_message(vote)

    def sign_proposal(self, height: int, round_: int, block_hash: bytes, pol_round: int
                      ) -> bytes:
        proposal = Proposal(height, round_, block_hash, pol_round, self.address)
        proposal.signature = self.sim.signer.sign(self.key, proposal.sign_digest(CHAIN_ID))
        self.sim.note_proposal(proposal)
        return encode_message(proposal)


class SilentNode(Node):
    """A validator that never sends anything."""


class HonestNode(Node):
    """A correct validator around a Driver (also the code twins run)."""

    role = "honest"

    def __init__(self, sim: Simulation, node_id: int, key: PrivateKey,
                 role: str | None = None) -> None:
        super().__init__(sim, node_id, key, role)
        self.wal = MemoryWAL()
        self.guard = MemorySignGuard()
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

    # -- life cycle -----------------------------------------------------------------

    def boot(self) -> None:
        self.up = True
        self.enter_height(1)
        self.sim.at(self.sim.now + self.sim.config.gossip_ms, self.tick, self.epoch)
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
        self.driver = self.sim.config.driver_class(self.height, self.sim.schedule, self.address)
        self.replaying, self.replay_timeouts = True, []
        self.act(self.driver.start())
        for entry in self.wal.replay():
            self.replay_entry(entry)
        self.replaying = False
        self.sim.counters["restarts"] += 1
        if self.driver.state != self.lost_state:
            self.sim.violations.append(f"wal: node {self.id} replayed to another state")
        for timeout in self.replay_timeouts:
            if timeout.round == self.driver.state.round:
                self.arm(timeout)
        self.sim.at(self.sim.now + self.sim.config.gossip_ms, self.tick, self.epoch)
        self.drain()

    def replay_entry(self, entry: bytes) -> None:
        driver = self.driver
        assert driver is not None
        kind, body = entry[:1], entry[1:]
        if kind == b"m":
            message = self.sim.verify(body[1:])
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
        if height > self.sim.config.heights:
            self.driver = None
            self.sim.done += self.role == "honest"
            return
        if self.role == "honest":
            self.sim.height_started.setdefault(height, self.sim.now)
        self.wal.begin_height(height)
        self.known = {}
        self.driver = self.sim.config.driver_class(height, self.sim.schedule, self.address)
        self.act(self.driver.start())
        self.local.extend(self.buffer.pop(height, []))

    # -- inputs ---------------------------------------------------------------------

    def receive(self, source: int, wire: bytes) -> None:
        if not self.up or self.driver is None:
            return
        message = self.sim.verify(wire)
        if message is None:
            return
        if message.height > self.height:
            self.hold(message.height, wire)
            if message.height >= self.height + 2:
                self.sync_from(self.sim.nodes[source])
            elif self.catching_up != self.height:
                # the peer moved on: if we have not decided ourselves in two
                # message delays, fetch the block and commit from it
                self.catching_up = self.height
                self.sim.at(self.sim.now + 2 * self.sim.config.max_delay_ms, self.catch_up,
                            self.epoch, self.height, source)
        elif message.height == self.height:
            self.deliver(message, wire)
        self.drain()

    def catch_up(self, epoch: int, height: int, source: int) -> None:
        if epoch == self.epoch and self.height == height and self.sim.connected(self.id, source):
            self.sync_from(self.sim.nodes[source])
            self.drain()

    def hold(self, height: int, wire: bytes) -> None:
        held = self.buffer.setdefault(height, [])
        if len(held) < BUFFER_PER_HEIGHT * self.sim.config.validators:
            held.append(wire)

    def drain(self) -> None:
        while self.local and self.driver is not None:
            wire = self.local.popleft()
            message = self.sim.verify(wire)
            assert message is not None
            if message.height == self.height:
                self.deliver(message, wire)
            elif message.height > self.height:
                self.hold(message.height, wire)

    def deliver(self, message: Message, wire: bytes) -> None:
        known = self.known  # feeding may decide, and the next height starts afresh
        if wire in known:
            return  # a duplicate: already logged and counted
        valid = isinstance(message, Proposal) and message.block_hash in self.sim.valid_blocks
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
                if self.sim.validator_set.power_of(message.validator):
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
            self.sim.rng.shuffle(peers)
            for peer in peers:
                if self.sim.connected(self.id, peer) and self.sync_from(self.sim.nodes[peer]):
                    break
        self.marker = self.height
        self.sim.at(self.sim.now + self.sim.config.gossip_ms, self.tick, self.epoch)
        self.drain()

    def sync_from(self, peer: Node) -> bool:
        """Block sync: adopt ``peer``'s decided blocks for our heights, checked."""
        synced = False
        while self.driver is not None and self.height in peer.decided:
            round_, value, precommits, _ = peer.decided[self.height]
            if not peer.up or not self.sim.check_commit(
                    self.height, (round_, value, precommits)):
                break
            self.decided[self.height] = (round_, value, precommits, True)
            self.sim.counters["synced"] += 1
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
        self.sim.at(self.sim.now + timeout.duration_ms, self.on_timeout, self.epoch,
                    timeout.step, timeout.height, timeout.round)

    def get_value(self, action: GetValue) -> None:
        if self.replaying:
            return  # the WAL holds the value given before the crash
        assert self.driver is not None
        value = self.sim.new_block(self.height, action.round, self.id)
        self.wal.append(b"v" + codec.encode([action.round, value]))
        self.act(self.driver.on_value(action.round, value))

    def decide(self, decision: Decision) -> None:
        if self.replaying:
            self.sim.violations.append(f"wal: node {self.id} decided during replay")
        self.decided[decision.height] = (decision.round, decision.block_hash,
                                         decision.precommits, False)
        self.enter_height(decision.height + 1)

    def send_vote(self, action: BroadcastVote) -> None:
        step_ = STEP_PREVOTE if action.vote_type == VOTE_PREVOTE else STEP_PRECOMMIT
        block_hash = action.value or NIL
        self.send_signed(action.round, step_, block_hash, lambda: self.sign_vote(
            action.vote_type, self.height, action.round, block_hash))

    def send_proposal(self, action: BroadcastProposal) -> None:
        self.send_signed(action.round, STEP_PROPOSAL, action.value, lambda: self.sign_proposal(
            self.height, action.round, action.value, action.pol_round))

    def send_signed(self, round_: int, step_: int, block_hash: bytes,
                    sign: Callable[[], bytes]) -> None:
        """Ask the guard, sign (or take the message signed before), send, and
        deliver to ourselves; during replay only re-send the last message."""
        try:
            wire = self.guard.authorize(self.height, round_, step_, block_hash)
        except DoubleSignRefused as exc:
            self.sim.counters["sign refused"] += 1
            if not self.replaying:
                self.sim.violations.append(f"double-sign refused live: node {self.id}: {exc}")
            return
        if wire is None:
            wire = sign()
            self.guard.record(SignedSlot(self.height, round_, step_, block_hash, wire))
            if self.role == "honest":
                self.sim.note_honest_signature(self, (self.height, round_, step_), block_hash)
        else:
            self.sim.counters["re-sent signed"] += 1
        self.broadcast(wire)
        if not self.replaying:
            self.local.append(wire)


class EquivocatorNode(HonestNode):
    """Runs the protocol but signs a second, conflicting version of every vote
    (nil against a block, a block nobody proposed against nil) and proposal
    (another valid block), and shows each peer one version or both."""

    role = "byzantine"

    def send_signed(self, round_: int, step_: int, block_hash: bytes,
                    sign: Callable[[], bytes]) -> None:
        primary = sign()
        if step_ == STEP_PROPOSAL:
            other = self.sim.new_block(self.height, round_, 10_000 + self.id)
            alternate = self.sign_proposal(self.height, round_, other, -1)
        else:
            vote_type = VOTE_PREVOTE if step_ == STEP_PREVOTE else VOTE_PRECOMMIT
            other = NIL if block_hash else self.sim.new_block(self.height, round_, -1 - self.id)
            alternate = self.sign_vote(vote_type, self.height, round_, other)
        rng = self.sim.rng
        for peer in self.peers:
            draw = rng.random()
            versions = (primary,) if draw < 0.45 else (alternate,) if draw < 0.9 else (
                alternate, primary)
            for wire in versions:
                self.sim.send(self.id, peer, wire)
        self.local.append(primary)


class JunkNode(Node):
    """Takes no part in the protocol; answers each correct proposal with
    garbage: undecodable bytes, votes for unknown blocks (two at once: an
    equivocation), far-future and past heights, forged signatures,
    a stranger's votes and an invalid block."""

    def __init__(self, sim: Simulation, node_id: int, key: PrivateKey,
                 role: str | None = None) -> None:
        super().__init__(sim, node_id, key, role)
        self.seen: set[tuple[int, int]] = set()

    def receive(self, source: int, wire: bytes) -> None:
        message = self.sim.verify(wire)
        if not isinstance(message, Proposal) or message.proposer in self.sim.faulty_addresses or (
                (message.height, message.round) in self.seen):
            return  # answer correct proposals only: junk nodes must not feed each other
        height, round_ = message.height, message.round
        self.seen.add((height, round_))
        rng = self.sim.rng
        unknown = [rng.randbytes(32) for _ in range(3)]
        victim = self.sim.keys[(self.id + 1) % len(self.sim.keys)].address
        forged = Vote(VOTE_PRECOMMIT, height, round_, unknown[0], 0, victim, rng.randbytes(32))
        stranger = Node(self.sim, -1, validator_key(STRANGER))
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
            self.sign_proposal(height, round_, self.sim.new_block(height, round_, self.id,
                                                                  valid=False), -1),
        ]
        for wire in junk:
            self.broadcast(wire)


@dataclass
class Tally:
    """Totals over many runs, per validator count (for reporting)."""

    runs: int = 0
    heights: int = 0
    messages: int = 0
    wall_s: float = 0.0
    rounds: list[int] = field(default_factory=list)

    def add(self, result: SimResult) -> None:
        self.runs += 1
        self.heights += result.heights
        self.messages += result.messages
        self.wall_s += result.wall_s
        self.rounds.append(result.max_round)


LEDGER: dict[int, Tally] = {}


def run_and_check(config: SimConfig) -> SimResult:
    """Run, tally, and fail with a reproducible config on any violation."""
    result = run_simulation(config)
    LEDGER.setdefault(config.validators, Tally()).add(result)
    assert not result.violations, f"{result.violations[:5]}\nreproduce: {result.repro()}"
    return result
