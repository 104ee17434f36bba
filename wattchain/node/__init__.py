"""The node process: chain (store, mempool, vm), consensus runner, p2p network,
JSON-RPC, events and metrics; ``ports.py`` says what RPC and network may ask of it."""
