"""The application interface between consensus and the state machine.

Consensus never imports the vm or the node: the node's consensus runner
drives an object with these members (in the node, ``node.chain.Chain``), as
ABCI does. The runner asks it for a block to propose, for its verdict on a
proposed block (the paper's ``valid(v)``), and to execute and persist a
decided block; it reads the validator set and the tip to check commits and
compute BFT time. Transactions do not pass through consensus: they reach
the application's mempool from the node (RPC and gossip), and a proposal
carries what ``propose_block`` reaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from wattchain.types import Block, Commit

Committed_co = TypeVar("Committed_co", covariant=True)


class InvalidBlock(Exception):
    """A proposed or synced block that must not be executed."""


class Member(Protocol):
    """A validator as the application stores it."""

    public_key: bytes
    power: int
    name: str


class Tip(Protocol):
    """The last committed block."""

    height: int
    block_hash: bytes
    time_ms: int


class GenesisTimes(Protocol):
    """Where the chain starts."""

    initial_height: int
    genesis_time_ms: int


class Application(Protocol[Committed_co]):
    """What consensus asks of the state machine; ``Committed_co`` is what a
    commit returns (the node's record of the block, opaque to consensus)."""

    chain_id: str
    last_commit: Commit | None  # the tip's commit; None before the first block
    validators_since: int  # the first height ``validators`` decides (proposer schedule)

    @property
    def genesis(self) -> GenesisTimes: ...

    @property
    def tip(self) -> Tip: ...

    @property
    def validators(self) -> Sequence[Member]:
        """The set that decides the next height."""
        ...

    def validators_of_last_height(self) -> Sequence[Member]:
        """The set that decided the tip (it signed the tip's commit)."""
        ...

    def propose_block(self, height: int, time_ms: int, proposer: bytes,
                      last_commit: Commit | None, evidence: list[bytes] | None = None) -> Block:
        """Build the block this validator proposes at ``height`` from the mempool."""
        ...

    def validate_proposal(self, block: Block, expected_time_ms: int | None = None) -> None:
        """Raise InvalidBlock unless ``block`` may follow the tip (at the BFT
        time ``expected_time_ms``, when given). The caller checks the last
        commit's signatures."""
        ...

    def check_evidence(self, raw: bytes) -> None:
        """Raise InvalidBlock unless ``raw`` is verifiable equivocation evidence."""
        ...

    def finalize_and_commit(self, block: Block, commit: Commit) -> Committed_co:
        """Execute a decided block and persist it with its commit, atomically;
        the tip is then ``block``. Raises InvalidBlock if its txs do not match
        its tx root (nothing is written then)."""
        ...
