"""The in-memory network of a consensus simulation, on a virtual clock.

Time is a heap of ``(time_ms, seq, callback, args)``; every delay, drop and
duplicate comes from the run's one seeded ``random.Random``. Links are lossy
(drops, partitions) until the schedule says otherwise and reliable afterwards;
delays stay random, which also reorders messages. Messages travel as bytes
(``encode_message``) and are decoded and signature-checked once per distinct
message, a shared stand-in for each node's signature cache.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import random
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from consensus_sim_config import SimConfig

from wattchain import codec
from wattchain.consensus.messages import InvalidMessage, Proposal, proposal_signer, vote_signer
from wattchain.crypto import PrivateKey, address_of
from wattchain.errors import DecodeError
from wattchain.types import Vote

CHAIN_ID = "wattchain-sim"
KIND_VOTE, KIND_PROPOSAL = 0, 1
Message = Vote | Proposal
Receive = Callable[[int, bytes], None]  # (source node id, wire bytes)


# -- signatures and the wire ----------------------------------------------------------


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


# -- the network ------------------------------------------------------------------------


class Network:
    """The clock and the links. ``join`` registers nodes in id order; ``send``
    schedules delivery to the target's receive callback, or loses the message."""

    def __init__(self, config: SimConfig, signer: FakeSigner | RealSigner,
                 counters: Counter[str]) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.signer = signer
        self.counters = counters  # "rejected": messages that failed to decode or verify
        self.queue: list[tuple[int, int, Callable[..., None], tuple[Any, ...]]] = []
        self.sequence = itertools.count()
        self.now = 0
        self.messages = 0  # point-to-point sends, retransmissions included
        self.delay_span = config.max_delay_ms - config.min_delay_ms + 1
        self.verified: dict[bytes, Message | None] = {}
        self.receivers: list[Receive] = []
        self.groups: list[dict[int, int]] = []  # per partition: node id -> side
        self.partitions_end = max((p.end_ms for p in config.partitions), default=0)

    def join(self, receivers: list[Receive]) -> None:
        """Attach the nodes (node id = index); a node in no group of a
        partition is alone on its side."""
        self.receivers = receivers
        for partition in self.config.partitions:
            side = {node: -1 - node for node in range(len(receivers))}
            for number, group in enumerate(partition.groups):
                side.update(dict.fromkeys(group, number))
            self.groups.append(side)

    # -- the clock ----------------------------------------------------------------------

    def at(self, time_ms: int, callback: Callable[..., None], *args: Any) -> None:
        heapq.heappush(self.queue, (time_ms, next(self.sequence), callback, args))

    def run(self, deadline_ms: int, finished: Callable[[], bool]) -> None:
        """Fire events in time order until ``finished``, the deadline or silence."""
        queue = self.queue
        while queue and not finished():
            time_ms, _, callback, args = heapq.heappop(queue)
            if time_ms > deadline_ms:
                break
            self.now = time_ms
            callback(*args)

    # -- the links ----------------------------------------------------------------------

    def connected(self, source: int, target: int) -> bool:
        if self.now >= self.partitions_end:
            return True
        for partition, groups in zip(self.config.partitions, self.groups, strict=True):
            if partition.start_ms <= self.now < partition.end_ms:
                return groups[source] == groups[target]
        return True

    def send(self, source: int, target: int, wire: bytes) -> None:
        """Deliver after a random delay unless partitioned or dropped; maybe twice."""
        self.messages += 1
        config, rng = self.config, self.rng
        if not self.connected(source, target):
            return
        if config.drop_rate and self.now < config.lossy_until_ms and (
                rng.random() < config.drop_rate):
            return
        arrival = self.now + config.min_delay_ms + int(rng.random() * self.delay_span)
        self.at(arrival, self.receivers[target], source, wire)
        if config.duplicate_rate and rng.random() < config.duplicate_rate:
            later = arrival + int(rng.random() * self.delay_span)
            self.at(later, self.receivers[target], source, wire)

    def verify(self, wire: bytes) -> Message | None:
        """Decode and check the signature once per distinct message."""
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
