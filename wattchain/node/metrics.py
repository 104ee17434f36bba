"""Prometheus metrics of one node (a registry per node, so tests can run many)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class NodeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.height = Gauge("wattchain_height", "Height of the last committed block",
                            registry=self.registry)
        self.txs = Counter("wattchain_txs", "Transactions committed in blocks",
                           registry=self.registry)
        self.failed_txs = Counter("wattchain_failed_txs",
                                  "Committed transactions whose handler failed",
                                  registry=self.registry)
        self.mempool_size = Gauge("wattchain_mempool_size", "Transactions in the mempool",
                                  registry=self.registry)
        self.mempool_bytes = Gauge("wattchain_mempool_bytes", "Bytes in the mempool",
                                   registry=self.registry)
        self.block_interval = Histogram(
            "wattchain_block_interval_seconds", "Block time between consecutive blocks",
            buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30), registry=self.registry)
        self.block_txs = Histogram(
            "wattchain_block_txs", "Transactions per block",
            buckets=(0, 1, 10, 100, 500, 1000, 2000, 5000), registry=self.registry)
        self.commit_seconds = Histogram(
            "wattchain_block_commit_seconds", "Wall time to execute and persist a block",
            buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2), registry=self.registry)
        self.rpc_requests = Counter("wattchain_rpc_requests", "JSON-RPC calls by method",
                                    ["method"], registry=self.registry)
        self.rpc_errors = Counter("wattchain_rpc_errors", "JSON-RPC error responses by code",
                                  ["code"], registry=self.registry)
        self.blocks_synced = Counter("wattchain_blocks_synced", "Blocks fetched from peers",
                                     registry=self.registry)
        self.peers = Gauge("wattchain_peers", "Connected peers", registry=self.registry)
        self.round = Gauge("wattchain_round", "Consensus round of the current height",
                           registry=self.registry)
        self.step_seconds = Histogram(
            "wattchain_consensus_step_seconds", "Time spent in each consensus step", ["step"],
            buckets=(0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5), registry=self.registry)
        self.rejected_txs = Counter("wattchain_rejected_txs",
                                    "Transactions refused by the mempool",
                                    registry=self.registry)
        self.evicted_txs = Counter("wattchain_mempool_evicted_txs",
                                   "Pending transactions the mempool evicted, by reason",
                                   ["reason"], registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)
