"""The application interface between consensus and the state machine.

Consensus never imports the vm: the node hands it an object with these
methods (as ABCI does), so the single-validator producer of today and the
Tendermint engine of tomorrow drive blocks the same way.
"""

from __future__ import annotations

from typing import Protocol

from wattchain.types import Block, Commit


class Application(Protocol):
    def check_tx(self, raw: bytes) -> bytes:
        """Admit a tx to the mempool; return its id or raise a TxError."""
        ...

    def propose_block(self, height: int, time_ms: int, proposer: bytes,
                      last_commit: Commit | None) -> Block:
        """Build the block this validator proposes at ``height``."""
        ...

    def validate_proposal(self, block: Block) -> None:
        """Raise if ``block`` is not a valid next block (before voting for it)."""
        ...

    def finalize_and_commit(self, block: Block, commit: Commit) -> None:
        """Execute a decided block and persist it with its commit, atomically."""
        ...
