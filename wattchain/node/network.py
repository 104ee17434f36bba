"""The node on the network: consensus messages, transaction batches, block sync.

Validators form a full mesh (persistent peers), so each sends its own
proposals and votes to every peer directly. What a peer missed is made good
three ways: a node relays every proposal and vote it knows for the current
height (its own and others') when a peer connects and while the height is
stuck, so a vote of a validator that crashed still reaches everyone; messages
for a later height are buffered until this node gets there; and a node that
is behind fetches committed blocks (with their commits) from a peer that is
ahead, checks each commit against the validator set of its height, executes
and joins consensus at the tip.

A peer that sends junk (undecodable frames, bad signatures, votes of
strangers, invalid synced blocks) loses score and is disconnected at zero.
"""

from __future__ import annotations

import logging
from collections import defaultdict

import trio

from wattchain.consensus.application import InvalidBlock
from wattchain.consensus.messages import InvalidMessage, proposal_signer, vote_signer
from wattchain.errors import WattchainError
from wattchain.node.p2p import transport as p2p
from wattchain.node.p2p import wire
from wattchain.node.ports import NetworkPort

log = logging.getLogger("wattchain.p2p")

START_SCORE = 100
PENALTY = 25
MAX_FUTURE_HEIGHTS = 5
MAX_FUTURE_MESSAGES = 20_000
TX_BATCH_SIZE = 1_000
TX_BATCH_INTERVAL_S = 0.05
STATUS_INTERVAL_S = 1.0
RESEND_AFTER_S = 2.0
SYNC_BATCH = 20


class NetworkService:
    """Serves ``node`` (through its NetworkPort) on ``transport``."""

    def __init__(self, node: NetworkPort, transport: p2p.Transport) -> None:
        self.node = node
        self.transport = transport
        self.scores: dict[str, int] = defaultdict(lambda: START_SCORE)
        self.peer_heights: dict[str, int] = {}
        self.future: dict[int, list[wire.Message]] = defaultdict(list)
        self.future_count = 0
        self.tx_outbox: list[bytes] = []
        self.tx_ready = trio.Event()
        self.sync_requested_at = -1e9
        self.blocks_synced = 0
        self.listen_addresses: list[str] = []

    # -- lifecycle -----------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[list[str]]
                  = trio.TASK_STATUS_IGNORED) -> None:
        send, receive = trio.open_memory_channel[p2p.Incoming](100_000)
        async with trio.open_nursery() as nursery:
            self.listen_addresses = await nursery.start(self.transport.run, send)
            nursery.start_soon(self._consume, receive)
            nursery.start_soon(self._flush_txs)
            nursery.start_soon(self._status_loop)
            task_status.started(self.listen_addresses)

    def peers(self) -> list[str]:
        return self.transport.peers()

    # -- outbound -------------------------------------------------------------------

    def broadcast(self, protocol: str, data: bytes) -> None:
        for peer in self.transport.peers():
            self.transport.send(peer, protocol, data)

    def queue_tx(self, raw: bytes) -> None:
        self.tx_outbox.append(raw)
        if len(self.tx_outbox) >= TX_BATCH_SIZE:
            self.tx_ready.set()

    async def _flush_txs(self) -> None:
        while True:
            with trio.move_on_after(TX_BATCH_INTERVAL_S):
                await self.tx_ready.wait()
            self.tx_ready = trio.Event()
            while self.tx_outbox:
                batch, self.tx_outbox = (self.tx_outbox[:TX_BATCH_SIZE],
                                         self.tx_outbox[TX_BATCH_SIZE:])
                self.broadcast(p2p.TXS, wire.encode_txs(batch))

    async def _status_loop(self) -> None:
        last_progress = (-1, -1)
        stuck_since = trio.current_time()
        while True:
            await trio.sleep(STATUS_INTERVAL_S)
            height = self.node.committed_height()
            self.broadcast(p2p.SYNC, wire.encode_status(height))
            round_ = self.node.consensus_round()
            progress = (height, round_ if round_ is not None else -1)
            if progress != last_progress:
                last_progress, stuck_since = progress, trio.current_time()
            elif trio.current_time() - stuck_since >= RESEND_AFTER_S:
                self._resend_own_messages()
                stuck_since = trio.current_time()
            self._maybe_sync()

    def _resend_own_messages(self, peer: str | None = None) -> None:
        """Relay this height's proposals and votes (own and others')."""
        for data in self.node.height_messages():
            if peer is None:
                self.broadcast(p2p.CONSENSUS, data)
            else:
                self.transport.send(peer, p2p.CONSENSUS, data)

    # -- inbound --------------------------------------------------------------------

    async def _consume(self, receive: trio.MemoryReceiveChannel[p2p.Incoming]) -> None:
        async for item in receive:
            if isinstance(item, p2p.PeerEvent):
                self._on_peer(item)
            else:
                self._on_frame_safely(item)
            await trio.lowlevel.checkpoint()

    def _on_frame_safely(self, frame: p2p.Frame) -> None:
        """Handle a frame; whatever is wrong with it costs the sender score,
        never the node (an unexpected error is logged with its traceback)."""
        try:
            self._on_frame(frame)
        except (WattchainError, InvalidBlock, ValueError, KeyError) as exc:
            self.penalize(frame.peer, str(exc))
        except Exception as exc:  # a bug here must not take the node down
            log.exception("error handling a frame from %s", frame.peer[:16])
            self.penalize(frame.peer, f"unexpected {type(exc).__name__}")

    def _on_peer(self, event: p2p.PeerEvent) -> None:
        if event.connected:
            log.info("peer connected %s", event.peer[:16])
            self.transport.send(event.peer, p2p.SYNC,
                                wire.encode_status(self.node.committed_height()))
            self._resend_own_messages(event.peer)
        else:
            log.info("peer disconnected %s", event.peer[:16])
            self.peer_heights.pop(event.peer, None)
            self.scores.pop(event.peer, None)
        self.node.metrics.peers.set(len(self.transport.peers()))

    def _on_frame(self, frame: p2p.Frame) -> None:
        if frame.protocol not in p2p.PROTOCOLS:
            raise InvalidMessage(f"unknown protocol {frame.protocol}")
        message = wire.decode_message(frame.data)
        if isinstance(message, (wire.ProposalMessage, wire.VoteMessage)):
            self._on_consensus(message)
        elif isinstance(message, wire.TxBatch):
            self._on_txs(frame.peer, message)
        elif isinstance(message, wire.Status):
            self.peer_heights[frame.peer] = message.height
            self._maybe_sync()
        elif isinstance(message, wire.GetBlocks):
            self._serve_blocks(frame.peer, message)
        else:
            self._on_blocks(message)

    def _on_consensus(self, message: wire.ProposalMessage | wire.VoteMessage) -> None:
        height = (message.proposal.height if isinstance(message, wire.ProposalMessage)
                  else message.vote.height)
        current = self.node.committed_height() + 1
        if height < current:
            return  # late: that height is decided
        if height > current:
            self._buffer(height, message)
            return
        self._deliver(message)

    def _deliver(self, message: wire.Message) -> None:
        """Check the signer of a proposal or vote for the current height and
        hand it to consensus (before consensus starts the height: buffer it)."""
        node = self.node
        if node.consensus_round() is None:
            self._buffer(node.committed_height() + 1, message)
            return
        if isinstance(message, wire.ProposalMessage):
            proposal = message.proposal
            expected = node.validator_public_key(proposal.proposer)
            if expected is None or proposal_signer(proposal, node.chain_id) != expected:
                raise InvalidMessage("proposal not signed by its proposer")
            node.receive_proposal(proposal, message.block)
        elif isinstance(message, wire.VoteMessage):
            expected = node.validator_public_key(message.vote.validator)
            if expected is None or vote_signer(message.vote, node.chain_id) != expected:
                raise InvalidMessage("vote not signed by a validator of this height")
            node.receive_vote(message.vote)

    def _buffer(self, height: int, message: wire.Message) -> None:
        if height > self.node.committed_height() + 1 + MAX_FUTURE_HEIGHTS:
            return
        if self.future_count >= MAX_FUTURE_MESSAGES:
            return
        self.future[height].append(message)
        self.future_count += 1

    def on_height_started(self) -> None:
        """Deliver what arrived early for the height consensus just started."""
        height = self.node.committed_height() + 1
        for stale in [h for h in self.future if h < height]:
            self.future_count -= len(self.future.pop(stale))
        messages = self.future.pop(height, [])
        self.future_count -= len(messages)
        for message in messages:
            try:
                self._deliver(message)
            except (WattchainError, InvalidBlock, ValueError) as exc:
                log.warning("dropped a buffered message: %s", exc)

    def _on_txs(self, peer: str, batch: wire.TxBatch) -> None:
        malformed = 0
        self.node.preverify(batch.txs)
        for raw in batch.txs:
            try:
                self.node.submit_tx(raw, gossip=False)
            except WattchainError as exc:
                malformed += exc.code == 2  # only undecodable txs count against the peer
        if malformed:
            self.penalize(peer, f"{malformed} malformed txs")

    # -- block sync -------------------------------------------------------------------

    def _maybe_sync(self) -> None:
        ours = self.node.committed_height()
        ahead = [(height, peer) for peer, height in self.peer_heights.items() if height > ours]
        now = trio.current_time()
        if not ahead or now - self.sync_requested_at < 2.0:
            return
        _, peer = max(ahead)
        self.sync_requested_at = now
        self.transport.send(peer, p2p.SYNC, wire.encode_get_blocks(ours + 1, SYNC_BATCH))

    def _serve_blocks(self, peer: str, request: wire.GetBlocks) -> None:
        items = []
        for height in range(request.from_height, request.from_height + request.count):
            stored = self.node.committed_block(height)
            if stored is None:
                break
            items.append(stored)
        self.transport.send(peer, p2p.SYNC, wire.encode_blocks(items))

    def _on_blocks(self, message: wire.Blocks) -> None:
        self.sync_requested_at = -1e9
        for block, commit in message.items:
            if block.header.height <= self.node.committed_height():
                continue
            self.node.commit_synced(block, commit)
            self.blocks_synced += 1
            self.node.metrics.blocks_synced.inc()
        self._maybe_sync()

    # -- peers ------------------------------------------------------------------------

    def penalize(self, peer: str, reason: str) -> None:
        self.scores[peer] -= PENALTY
        log.warning("bad message from peer %s: %s (score %d)", peer[:16], reason,
                    self.scores[peer])
        if self.scores[peer] <= 0:
            log.warning("disconnecting peer %s", peer[:16])
            self.transport.disconnect(peer)
            self.scores.pop(peer, None)
