"""Runs the Tendermint driver inside the node.

The runner owns the driver of the current height. It signs what the driver
asks to broadcast (through the sign guard, fsynced before anything leaves),
delivers the node's own messages back to the driver, hands messages to the
network, asks the chain for blocks, checks proposals, and commits decisions.
Its own inputs are processed from a queue in order, so with one validator a
height runs from start to decision without waiting on anything.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from wattchain import codec
from wattchain.consensus.application import Application, InvalidBlock, Member
from wattchain.consensus.block_time import block_time_ms
from wattchain.consensus.commit import commit_from_precommits, verify_commit
from wattchain.consensus.driver import (
    Action,
    Decision,
    Driver,
    RecordEvidence,
    Timeout,
    TimeoutConfig,
)
from wattchain.consensus.messages import Evidence, InvalidMessage, Proposal
from wattchain.consensus.safety import (
    STEP_PRECOMMIT,
    STEP_PREVOTE,
    STEP_PROPOSAL,
    MemoryWAL,
    SignedSlot,
    SignGuard,
    WriteAheadLog,
)
from wattchain.consensus.state_machine import BroadcastProposal, BroadcastVote, GetValue, Step
from wattchain.consensus.validator_set import ProposerSchedule, ValidatorInfo, ValidatorSet
from wattchain.crypto import PrivateKey
from wattchain.node.chain import CommittedBlock
from wattchain.node.p2p import wire
from wattchain.types import VOTE_PREVOTE, Block, Commit, Vote

log = logging.getLogger("wattchain.consensus")

Clock = Callable[[], int]
SKIP = b"\x00skip"  # marker: this signing slot was used before a restart
MAX_PROPOSALS_PER_ROUND = 4  # an equivocating proposer cannot flood the node


@dataclass(slots=True)
class Inbox:
    proposals: deque[tuple[Proposal, Block]] = field(default_factory=deque)
    votes: deque[Vote] = field(default_factory=deque)


def to_validator_set(validators: Iterable[Member]) -> ValidatorSet:
    return ValidatorSet(ValidatorInfo(v.public_key, v.power, v.name) for v in validators)


class ConsensusRunner:
    """Drives ``chain`` through consensus, one height at a time, signing with
    ``key`` (None: an observer, which follows but never votes)."""

    def __init__(self, chain: Application[CommittedBlock], key: PrivateKey | None, guard: SignGuard,
                 clock: Clock, wal: WriteAheadLog | None = None,
                 timeouts: TimeoutConfig | None = None,
                 on_commit: Callable[[CommittedBlock], None] | None = None,
                 on_timeout: Callable[[Timeout], None] | None = None) -> None:
        self.chain = chain
        self.key = key
        self.guard = guard
        self.clock = clock
        self.wal: WriteAheadLog = wal if wal is not None else MemoryWAL()
        self.replay_values: dict[int, Block] = {}
        self.timeouts = timeouts or TimeoutConfig()
        self.on_commit = on_commit or (lambda committed: None)
        self.on_timeout = on_timeout or (lambda timeout: None)
        self.inbox = Inbox()
        self.blocks: dict[bytes, Block] = {}
        self.pending_evidence: dict[bytes, bytes] = {}
        self.sent: list[bytes] = []  # own consensus messages of this height, to re-send
        self.on_step: Callable[[str, int], None] = lambda step, elapsed_ms: None
        self._step: tuple[Step, int] = (Step.PROPOSE, clock())
        self.broadcast: Callable[[bytes], None] = lambda data: None
        self.validator_set = to_validator_set(chain.validators)
        self.schedule = ProposerSchedule(self.validator_set, chain.validators_since)
        self.previous_set = to_validator_set(chain.validators_of_last_height())
        self.driver: Driver | None = None

    # -- heights ------------------------------------------------------------------

    def proposes_next_height(self) -> bool:
        """Whether this validator proposes round 0 of the next height."""
        if self.key is None:
            return False
        current = to_validator_set(self.chain.validators)
        if current.hash() != self.validator_set.hash():
            return False  # the set changes; start at once and let the schedule decide
        return self.schedule.proposer(self.chain.tip.height + 1, 0) == self.key.address

    def start_height(self) -> CommittedBlock | None:
        """Create the driver for the next height and start round 0. If the WAL
        holds inputs of this height (a restart), replay them first: the driver
        returns to where it was, and a decision reached before a crash commits."""
        current = to_validator_set(self.chain.validators)
        if current.hash() != self.validator_set.hash():
            self.validator_set = current
            self.schedule = ProposerSchedule(current, self.chain.validators_since)
        self.previous_set = to_validator_set(self.chain.validators_of_last_height())
        height = self.chain.tip.height + 1
        address = self.key.address if self.key is not None else None
        self.driver = Driver(height, self.schedule, address, self.timeouts)
        self.blocks = {}
        self.sent = []
        self._step = (Step.PROPOSE, self.clock())
        entries = list(self.wal.replay()) if self.wal.height == height else []
        if not entries:
            self.wal.begin_height(height)
        self.replay_values = self._replay_values(entries)
        committed = self._execute(self.driver.start())
        for entry in entries:
            committed = committed or self._replay(entry)
        self.replay_values = {}
        return committed or self.run_until_idle()

    def _replay_values(self, entries: list[bytes]) -> dict[int, Block]:
        values = {}
        for entry in entries:
            item = codec.decode(entry, max_bytes_len=64 << 20)
            if item[0] == "value":
                values[item[1]] = Block.decode(item[2])
        return values

    def _replay(self, entry: bytes) -> CommittedBlock | None:
        item = codec.decode(entry, max_bytes_len=64 << 20)
        kind = item[0]
        if self.driver is None:
            return None
        if kind == "proposal":
            return self.receive_proposal(Proposal.decode(item[1]), Block.decode(item[2]),
                                         log_input=False)
        if kind == "vote":
            return self.receive_vote(Vote.decode(item[1]), log_input=False)
        if kind == "timeout":
            return self.timeout(Step(item[1]), item[2], item[3], log_input=False)
        return None

    def run_until_idle(self) -> CommittedBlock | None:
        """Process queued messages; return the committed block if the height ended."""
        committed = None
        while self.driver is not None and (self.inbox.proposals or self.inbox.votes):
            if self.inbox.proposals:
                proposal, block = self.inbox.proposals.popleft()
                result = self.receive_proposal(proposal, block)
            else:
                result = self.receive_vote(self.inbox.votes.popleft())
            committed = committed or result
        return committed

    # -- inputs --------------------------------------------------------------------

    def receive_proposal(self, proposal: Proposal, block: Block,
                         log_input: bool = True) -> CommittedBlock | None:
        driver = self.driver
        if driver is None or proposal.height != driver.height:
            return None
        if block.hash() != proposal.block_hash:
            raise InvalidMessage("the proposal's block does not match its hash")
        if proposal.block_hash in driver.proposals.get(proposal.round, {}):
            return None  # seen (an equivocating proposer's other block is still kept)
        if len(driver.proposals.get(proposal.round, {})) >= MAX_PROPOSALS_PER_ROUND:
            return None
        if log_input:
            own = self.key is not None and proposal.proposer == self.key.address
            self.wal.append(codec.encode(["proposal", proposal.encode(), block.encode()]),
                            sync=own)
        valid = self._is_valid(block)
        self.blocks[proposal.block_hash] = block
        return self._execute(driver.on_proposal(proposal, valid))

    def receive_vote(self, vote: Vote, log_input: bool = True) -> CommittedBlock | None:
        driver = self.driver
        if driver is None or vote.height != driver.height:
            return None
        if log_input:
            own = self.key is not None and vote.validator == self.key.address
            self.wal.append(codec.encode(["vote", vote.encode()]), sync=own)
        return self._execute(driver.on_vote(vote))

    def timeout(self, step: Step, height: int, round_: int,
                log_input: bool = True) -> CommittedBlock | None:
        if self.driver is None or height != self.driver.height:
            return None
        if log_input:
            self.wal.append(codec.encode(["timeout", int(step), height, round_]), sync=True)
        return self._execute(self.driver.on_timeout(step, height, round_))

    def _is_valid(self, block: Block) -> bool:
        """The application's verdict on a proposed block (the paper's valid(v))."""
        try:
            self.check_last_commit(block.last_commit)
            self.chain.validate_proposal(block, self.expected_time(block.last_commit))
            for raw in block.evidence:
                self.chain.check_evidence(raw)
        except (InvalidBlock, InvalidMessage) as exc:
            log.warning("invalid proposal at height %d: %s", block.header.height, exc)
            return False
        return True

    def check_last_commit(self, last_commit: Commit | None) -> None:
        """A block carries the commit of its parent, signed by the parent's set."""
        tip = self.chain.tip
        if tip.height < self.chain.genesis.initial_height:
            if last_commit is not None:
                raise InvalidBlock("the first block carries no last commit")
            return
        if last_commit is None:
            raise InvalidBlock("the block lacks the commit of its parent")
        verify_commit(last_commit, self.previous_set, self.chain.chain_id, tip.height,
                      tip.block_hash)

    def expected_time(self, last_commit: Commit | None) -> int:
        """BFT time: the weighted median of the parent commit's timestamps."""
        return block_time_ms(last_commit, self.previous_set,
                             self.chain.genesis.genesis_time_ms, self.chain.tip.time_ms)

    # -- actions ---------------------------------------------------------------------

    def _execute(self, actions: list[Action]) -> CommittedBlock | None:
        if self.driver is not None and self.driver.state.step != self._step[0]:
            self.on_step(self._step[0].name.lower(), self.clock() - self._step[1])
            self._step = (self.driver.state.step, self.clock())
        committed = None
        for action in actions:
            if isinstance(action, GetValue):
                self._propose_new_block(action.round)
            elif isinstance(action, BroadcastProposal):
                self._send_proposal(action)
            elif isinstance(action, BroadcastVote):
                self._send_vote(action)
            elif isinstance(action, Timeout):
                self.on_timeout(action)
            elif isinstance(action, RecordEvidence):
                self._keep_evidence(action.evidence)
            elif isinstance(action, Decision):
                committed = self._commit(action)
        return committed

    def _propose_new_block(self, round_: int) -> None:
        if self.driver is None or self.key is None:
            return
        block = self.replay_values.get(round_)
        if block is None:
            last_commit = self.chain.last_commit
            block = self.chain.propose_block(self.driver.height, self.expected_time(last_commit),
                                             self.key.address, last_commit,
                                             list(self.pending_evidence.values()))
            self.wal.append(codec.encode(["value", round_, block.encode()]), sync=True)
        block_hash = block.hash()
        self.blocks[block_hash] = block
        self._execute(self.driver.on_value(round_, block_hash))

    def _send_proposal(self, action: BroadcastProposal) -> None:
        if self.driver is None or self.key is None:
            return
        height = self.driver.height
        block = self.blocks[action.value]
        prior = self._authorize(height, action.round, STEP_PROPOSAL, action.value)
        if prior is SKIP:
            return
        if prior is not None:
            proposal = Proposal.decode(prior)
        else:
            proposal = Proposal(height, action.round, action.value, action.pol_round,
                                self.key.address)
            proposal.signature = self.key.sign_digest(proposal.sign_digest(self.chain.chain_id))
            self.guard.record(SignedSlot(height, action.round, STEP_PROPOSAL, action.value,
                                         proposal.encode()))
        self.broadcast_proposal(proposal, block)
        self.inbox.proposals.append((proposal, block))

    def _send_vote(self, action: BroadcastVote) -> None:
        if self.driver is None or self.key is None:
            return
        height = self.driver.height
        value = action.value or b""
        step = STEP_PREVOTE if action.vote_type == VOTE_PREVOTE else STEP_PRECOMMIT
        prior = self._authorize(height, action.round, step, value)
        if prior is SKIP:
            return
        if prior is not None:
            vote = Vote.decode(prior)
        else:
            time_ms = max(self.clock(), self.chain.tip.time_ms + 1)
            vote = Vote(action.vote_type, height, action.round, value, time_ms,
                        self.key.address)
            vote.signature = self.key.sign_digest(vote.sign_digest(self.chain.chain_id))
            self.guard.record(SignedSlot(height, action.round, step, value, vote.encode()))
        self.broadcast_vote(vote)
        self.inbox.votes.append(vote)

    def _authorize(self, height: int, round_: int, step: int, value: bytes) -> bytes | None:
        """Ask the sign guard. A slot below the last signed one was signed before
        a restart and is in the WAL being replayed: skip it (never sign twice)."""
        last = self.guard.last
        if last is not None and (height, round_, step) < last.slot:
            return SKIP
        return self.guard.authorize(height, round_, step, value)

    def _keep_evidence(self, evidence: Evidence) -> None:
        raw = evidence.encode()
        self.pending_evidence.setdefault(evidence.hash(), raw)
        log.warning("equivocation by 0x%s at height %d", evidence.validator.hex(),
                    evidence.height)

    def _commit(self, decision: Decision) -> CommittedBlock:
        block = self.blocks[decision.block_hash]
        commit = commit_from_precommits(decision.height, decision.round, decision.block_hash,
                                        decision.precommits)
        committed = self.chain.finalize_and_commit(block, commit)
        for raw in block.evidence:
            self.pending_evidence = {h: e for h, e in self.pending_evidence.items() if e != raw}
        self.driver = None
        self.inbox = Inbox()
        self.on_commit(committed)
        return committed

    # -- network ------------------------------------------------------------------------

    def broadcast_proposal(self, proposal: Proposal, block: Block) -> None:
        data = wire.encode_proposal(proposal, block)
        self.sent.append(data)
        self.broadcast(data)

    def broadcast_vote(self, vote: Vote) -> None:
        data = wire.encode_vote(vote)
        self.sent.append(data)
        self.broadcast(data)

    def height_messages(self) -> list[bytes]:
        """Every proposal and vote known for the current height, ready to relay.

        Tendermint's liveness needs gossip: a vote one honest validator saw
        must reach the others, even if its sender has since crashed (a polka
        that unlocks a value may depend on it). Validators relay all of them
        to a peer that connects, and to everyone while the height is stuck."""
        driver = self.driver
        if driver is None:
            return list(self.sent)
        messages = [wire.encode_proposal(proposal, self.blocks[proposal.block_hash])
                    for of_round in driver.proposals.values()
                    for proposal, _ in of_round.values() if proposal.block_hash in self.blocks]
        messages.extend(wire.encode_vote(vote) for vote in driver.votes.all_votes())
        return messages

    def commit_synced(self, block: Block, commit: Commit) -> CommittedBlock:
        """Commit a block fetched from a peer: its commit must carry +2/3 of the
        power of the set that decides its height. Raises InvalidBlock otherwise."""
        height = self.chain.tip.height + 1
        if block.header.height != height:
            raise InvalidBlock(f"synced block {block.header.height} is not the next ({height})")
        current = to_validator_set(self.chain.validators)
        try:
            verify_commit(commit, current, self.chain.chain_id, height, block.hash())
            self.previous_set = to_validator_set(self.chain.validators_of_last_height())
            self.check_last_commit(block.last_commit)
        except InvalidMessage as exc:
            raise InvalidBlock(f"synced block {height}: {exc.message}") from None
        self.chain.validate_proposal(block, self.expected_time(block.last_commit))
        committed = self.chain.finalize_and_commit(block, commit)
        if self.wal.height == height:
            self.wal.begin_height(height + 1)
        self.driver = None
        self.inbox = Inbox()
        self.on_commit(committed)
        return committed
