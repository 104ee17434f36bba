"""The node: a thin trio shell around the chain, consensus, network and RPC.

One task runs consensus height after height (``produce_blocks``, through the
``ConsensusRunner``); the network service's task feeds it peers' proposals,
votes and synced blocks, and the RPC server's tasks feed it transactions and
read committed state. All run on one trio thread, so the chain is never
touched concurrently.

``Node`` implements the two ports of ``ports.py``: ``RpcPort`` for the RPC
server and ``NetworkPort`` for the network service, which see the node only
through them.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import trio

from wattchain.consensus.driver import Timeout
from wattchain.consensus.messages import Proposal
from wattchain.crypto import PrivateKey, format_address
from wattchain.genesis import load_genesis
from wattchain.hashing import sha256
from wattchain.modules.chain import Validator
from wattchain.node.chain import Chain, CommittedBlock
from wattchain.node.config import ConfigError, Home, NodeConfig, load_key_file
from wattchain.node.consensus_runner import ConsensusRunner
from wattchain.node.events import (
    CommitWaiters,
    EventBus,
    Inclusion,
    end_block_event,
    new_block_event,
    tx_event_data,
    tx_evicted_event,
    tx_tags,
)
from wattchain.node.metrics import NodeMetrics
from wattchain.node.network import NetworkService
from wattchain.node.p2p.transport import CONSENSUS, Transport
from wattchain.node.ports import ConsensusState, NodeIdentity, RpcPort
from wattchain.node.rpc import serve_rpc
from wattchain.node.sign_guard import FileSignGuard
from wattchain.node.store import ChainTip, StoreCorrupted
from wattchain.node.wal import FileWAL
from wattchain.types import Block, Commit, SignedTx, Vote
from wattchain.vm.errors import TxError

log = logging.getLogger("wattchain.node")
STOP_GRACE_S = 0.2  # after damage is found, time for in-flight answers to go out


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class Node:
    """A node of one chain, from its home directory: the chain, consensus,
    and (when a transport is given or [p2p] is enabled) the network."""

    def __init__(self, home: Home, config: NodeConfig | None = None,
                 transport: Transport | None = None) -> None:
        self.home = home
        self.config = config or home.load_config()
        self.genesis = load_genesis(home.genesis_file)
        self.validator_key: PrivateKey = load_key_file(home.validator_key_file)
        self.identity = NodeIdentity(self.config.moniker, self.config.mode,
                                     self.validator_key.address,
                                     self.validator_key.public_key)
        limits = self.config.mempool.limits(cores=min(4, os.cpu_count() or 1))
        consensus = self.config.consensus
        budget = min(consensus.timeout_propose_ms, consensus.timeout_prevote_ms) // 2
        self.chain = Chain(home.db_path, self.genesis, limits, block_budget_ms=budget)
        self.storage_failure: StoreCorrupted | None = None
        self.chain.store.on_failure = self._storage_failed
        try:
            wal = FileWAL(home.wal_file)
            if transport is None and self.config.p2p.enabled:
                transport = self._libp2p_transport()
            if transport is None:
                self._check_single_validator()
        except BaseException:
            self.chain.close()  # release the database lock for the next attempt
            raise
        self.chain_id = self.chain.chain_id
        self.blocks = self.chain.store
        self.mempool = self.chain.mempool
        self.rpc_config = self.config.rpc
        self.bus = EventBus()
        self.metrics = NodeMetrics()
        self.mempool.on_evict = self._on_evict
        self.waiters = CommitWaiters()
        signing_key = self.validator_key if self.config.mode == "validator" else None
        self.runner = ConsensusRunner(
            self.chain, signing_key, FileSignGuard(home.sign_state_file), wall_clock_ms,
            wal=wal, timeouts=self.config.consensus.timeouts(),
            on_commit=self._on_commit, on_timeout=self._schedule_timeout)
        self.runner.on_step = lambda step, elapsed_ms: self.metrics.step_seconds.labels(
            step).observe(elapsed_ms / 1000)
        self.network = NetworkService(self, transport) if transport is not None else None
        if self.network is not None:
            network = self.network
            self.runner.broadcast = lambda data: network.broadcast(CONSENSUS, data)
        self._height_done = trio.Event()
        self._nursery: trio.Nursery | None = None
        self.rpc_urls: list[str] = []
        self._tx_arrived = trio.Event()
        self._last_block_time_ms = self.chain.tip.time_ms
        self._height_started = time.perf_counter()
        self.metrics.height.set(self.chain.height)

    def _check_single_validator(self) -> None:
        validators = self.chain.validators
        total = sum(v.power for v in validators)
        mine = sum(v.power for v in validators if v.address == self.validator_key.address)
        if mine * 3 <= total * 2:
            raise ConfigError(
                "without a network ([p2p] enabled = false) the node decides alone: the "
                f"validator key in {self.home.validator_key_file} must hold more than 2/3 "
                "of the voting power (enable [p2p] to join other validators)"
            )

    def _storage_failed(self, failure: StoreCorrupted) -> None:
        """Damage found while running: stop the node, never go on with a broken
        store (``run`` then raises the failure)."""
        self.storage_failure = failure
        if self._nursery is not None:
            self._nursery.start_soon(self._stop_soon)

    async def _stop_soon(self) -> None:
        """Let the request that met the damage get its error answer, then stop."""
        await trio.sleep(STOP_GRACE_S)
        if self._nursery is not None:
            self._nursery.cancel_scope.cancel()

    @contextmanager
    def _stopping_on_damage(self) -> Iterator[None]:
        """A peer's request that met damage: the node is already stopping (the
        store reported it), so the peer's handler gets no error to log."""
        try:
            yield
        except StoreCorrupted:
            if self.storage_failure is None:
                raise

    def _libp2p_transport(self) -> Transport:
        from wattchain.node.p2p.libp2p_transport import Libp2pTransport

        settings = self.config.p2p
        node_key = load_key_file(self.home.node_key_file)
        transport: Transport = Libp2pTransport(node_key.secret, settings.host, settings.port,
                                               list(settings.persistent_peers))
        return transport

    # -- transactions (both ports) ------------------------------------------------

    def preverify(self, raws: list[bytes]) -> None:
        """Verify the signatures of a batch about to be submitted, on all cores."""
        self.chain.mempool.preverify(raws, self.chain.state, self.chain.params)

    def submit_tx(self, raw: bytes, gossip: bool = True) -> bytes:
        """Admit ``raw`` to the mempool (and pass it on to peers); return its id
        or raise a TxError."""
        try:
            tx_id = self.chain.check_tx(raw)
        except TxError:
            self.metrics.rejected_txs.inc()
            raise
        self.metrics.mempool_size.set(len(self.chain.mempool))
        if gossip and self.network is not None:
            self.network.queue_tx(raw)
        self._tx_arrived.set()
        return tx_id

    def _on_evict(self, stx: SignedTx, reason: str) -> None:
        """Count a tx the mempool dropped and tell the subscribers (TxEvicted)."""
        self.metrics.evicted_txs.labels(reason).inc()
        if self.bus.active:
            self.bus.publish(*tx_evicted_event(stx, reason, self.mempool.height))

    # -- RpcPort ----------------------------------------------------------------

    def tip(self) -> ChainTip:
        return self.chain.tip

    def validators(self) -> Sequence[Validator]:
        return self.chain.validators

    def consensus_state(self) -> ConsensusState:
        driver = self.runner.driver
        if driver is None:
            return ConsensusState(self.chain.height + 1, None, "waiting")
        return ConsensusState(driver.height, driver.state.round, driver.state.step.name.lower())

    def query(self, path: str, data: dict[str, Any]) -> Any:
        return self.chain.vm.query(self.chain.state, path, data)

    def peers(self) -> list[str]:
        return self.network.peers() if self.network is not None else []

    def peer_heights(self) -> Mapping[str, int]:
        return self.network.peer_heights if self.network is not None else {}

    def p2p_addresses(self) -> list[str]:
        return self.network.listen_addresses if self.network is not None else []

    async def wait_for_commit(self, tx_id: bytes, timeout_s: float) -> Inclusion | None:
        return await self.waiters.wait(tx_id, timeout_s)

    # -- NetworkPort ------------------------------------------------------------

    def committed_height(self) -> int:
        return self.chain.height

    def consensus_round(self) -> int | None:
        driver = self.runner.driver
        return driver.state.round if driver is not None else None

    def validator_public_key(self, address: bytes) -> bytes | None:
        member = self.runner.validator_set.by_address.get(address)
        return member.public_key if member is not None else None

    def receive_proposal(self, proposal: Proposal, block: Block) -> None:
        with self._stopping_on_damage():
            self.runner.receive_proposal(proposal, block)
            self.runner.run_until_idle()

    def receive_vote(self, vote: Vote) -> None:
        with self._stopping_on_damage():
            self.runner.receive_vote(vote)
            self.runner.run_until_idle()

    def height_messages(self) -> list[bytes]:
        return self.runner.height_messages()

    def committed_block(self, height: int) -> tuple[bytes, bytes] | None:
        store = self.chain.store
        with self._stopping_on_damage():
            block, commit = store.block_bytes(height), store.commit(height)
            if block is not None and commit is not None:
                return block, commit.encode()
        return None

    def commit_synced(self, block: Block, commit: Commit) -> None:
        with self._stopping_on_damage():
            self.runner.commit_synced(block, commit)

    # -- block production -------------------------------------------------------

    @property
    def last_commit(self) -> Commit | None:
        return self.chain.last_commit

    def produce_block(self) -> CommittedBlock:
        """Run one height of consensus to its decision without waiting on anyone:
        for tests and a node deciding alone (its key holds more than 2/3 of the
        power). Raises RuntimeError if the height does not decide at once."""
        self._height_started = time.perf_counter()
        committed = self.runner.start_height() or self.runner.run_until_idle()
        if committed is None:
            raise RuntimeError("consensus did not decide: a single validator must hold "
                               "more than 2/3 of the power")
        return committed

    def _on_commit(self, committed: CommittedBlock) -> None:
        self._record(committed, time.perf_counter() - self._height_started)
        self._publish(committed)
        self._height_done.set()

    def _schedule_timeout(self, timeout: Timeout) -> None:
        if self._nursery is not None:
            self._nursery.start_soon(self._fire_timeout, timeout)

    async def _fire_timeout(self, due: Timeout) -> None:
        await trio.sleep(due.duration_ms / 1000)
        self.runner.timeout(due.step, due.height, due.round)
        if self.runner.driver is not None:
            self.metrics.round.set(self.runner.driver.state.round)
        self.runner.run_until_idle()

    def _record(self, committed: CommittedBlock, seconds: float) -> None:
        metrics = self.metrics
        header = committed.block.header
        results = committed.result.tx_results
        metrics.height.set(header.height)
        metrics.txs.inc(len(results))
        metrics.failed_txs.inc(sum(1 for r in results if r.code))
        metrics.block_txs.observe(len(results))
        metrics.block_interval.observe((header.time_ms - self._last_block_time_ms) / 1000)
        metrics.commit_seconds.observe(seconds)
        metrics.mempool_size.set(len(self.chain.mempool))
        metrics.mempool_bytes.set(self.chain.mempool.size_bytes)
        self._last_block_time_ms = header.time_ms
        if results:
            log.info("committed block height=%d txs=%d app_hash=%s ms=%.1f", header.height,
                     len(results), committed.result.app_hash.hex()[:16], seconds * 1000)

    def _publish(self, committed: CommittedBlock) -> None:
        """Wake the broadcast_tx_commit callers and send the block's events to
        the subscribers (Tx per tx, EndBlock if modules acted, then NewBlock)."""
        block, result = committed.block, committed.result
        height = block.header.height
        active = self.bus.active
        for index, (raw, stx, tx_result) in enumerate(
            zip(block.txs, committed.txs, result.tx_results, strict=True)
        ):
            tx_id = stx.tx_id if isinstance(stx, SignedTx) else sha256(raw)
            self.waiters.notify(tx_id, Inclusion(height, index, tx_result))
            if active:
                self.bus.publish(tx_tags(stx, height, index, tx_result, tx_id.hex()),
                                 tx_event_data(tx_id, height, index, tx_result))
        if active and result.end_block_events:
            self.bus.publish(*end_block_event(height, result.end_block_events))
        if active:
            self.bus.publish(*new_block_event(block, committed.tip.block_hash, result))

    async def produce_blocks(self) -> None:
        """Run consensus height after height, at most every min interval. The
        height's proposer waits for txs up to the empty-block interval (so an idle
        chain makes heartbeat blocks, not a stream of empty ones); the others
        start at once and wait for its proposal."""
        settings = self.config.producer
        last_block_at = trio.current_time()
        while True:
            if not len(self.chain.mempool) and self.runner.proposes_next_height():
                with trio.move_on_at(last_block_at + settings.empty_block_interval_ms / 1000):
                    await self._tx_arrived.wait()
            self._tx_arrived = trio.Event()
            await trio.sleep_until(last_block_at + settings.min_block_interval_ms / 1000)
            self._height_done = trio.Event()
            self._height_started = time.perf_counter()
            committed = self.runner.start_height()
            self.metrics.round.set(0)
            if self.network is not None:
                self.network.on_height_started()
            if committed is None and self.runner.driver is not None:
                await self._height_done.wait()
            last_block_at = trio.current_time()

    # -- lifecycle --------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[Node] = trio.TASK_STATUS_IGNORED) -> None:
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                if self.network is not None:
                    await nursery.start(self.network.run)
                port: RpcPort = self
                self.rpc_urls = await nursery.start(serve_rpc, port)
                log.info("node started moniker=%s chain_id=%s height=%d validator=%s rpc=%s",
                         self.config.moniker, self.chain.chain_id, self.chain.height,
                         format_address(self.validator_key.address), ",".join(self.rpc_urls))
                nursery.start_soon(self.produce_blocks)
                task_status.started(self)
        finally:
            self._nursery = None
            self.runner.wal.close()
            self.chain.close()
        if self.storage_failure is not None:
            raise self.storage_failure



def tune_gc() -> None:
    """Garbage collection for a long-running node: what is loaded at start
    (code, genesis, caches) moves to the permanent generation, and young
    collections run less often. Every tx allocates a few dozen objects; with
    the defaults the collector cost ~a fifth of block execution time."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


async def run_until_signal(node: Node) -> None:
    """Run ``node`` until SIGINT or SIGTERM, then shut down cleanly."""
    tune_gc()
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            await nursery.start(node.run)
            async for signum in signals:
                log.info("received %s, shutting down", signal.Signals(signum).name)
                nursery.cancel_scope.cancel()
                break
