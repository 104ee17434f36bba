"""The node process: storage, mempool, block production, JSON-RPC, metrics."""
