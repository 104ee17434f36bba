"""A deterministic discrete-event simulation of Tendermint validators.

Nodes wrap ``wattchain.consensus.driver.Driver`` and talk over an in-memory
network driven by one seeded ``random.Random`` on a virtual clock, so a
config reproduces its run exactly. The pieces:

- ``consensus_sim_config``: ``SimConfig`` (validators, faults, timing) and
  ``make_schedule``, which draws a fault schedule from a seed;
- ``consensus_sim_network``: the clock and the links, which drop, delay,
  duplicate, reorder and partition; signatures and the wire format;
- ``consensus_sim_nodes``: honest validators (WAL, sign guard, crash and
  replay, gossip, block sync); ``consensus_sim_byzantine``: the faulty kinds;
- ``consensus_sim_checks``: what a run records and the properties checked
  against it (agreement, validity, liveness after GST, evidence, WAL replay,
  no honest double signing).

This module wires them into a run: ``run_simulation(config)`` replays a
config exactly; ``run_and_check`` also fails with a reproducible config on
any violation.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

from consensus_sim_byzantine import EquivocatorNode, JunkNode, SilentNode
from consensus_sim_checks import Committee, Records, find_violations
from consensus_sim_config import (
    STRANGER,
    Crash,
    Partition,
    SimConfig,
    make_schedule,
    validator_key,
)
from consensus_sim_network import FakeSigner, Network, RealSigner
from consensus_sim_nodes import HonestNode, Node, World

from wattchain.consensus.validator_set import ProposerSchedule, ValidatorInfo, ValidatorSet

__all__ = ["LEDGER", "Crash", "Partition", "SimConfig", "SimResult", "Simulation",
           "make_schedule", "run_and_check", "run_simulation"]

NODE_KINDS: dict[str, type[Node]] = {
    "equivocate": EquivocatorNode, "silent": SilentNode, "junk": JunkNode}


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


class Simulation:
    """One run: the committee, the network, the nodes and the records."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        keys = [validator_key(i) for i in range(config.validators)]
        powers = config.powers or (1,) * config.validators
        validator_set = ValidatorSet(
            ValidatorInfo(key.public_key, power) for key, power in zip(keys, powers, strict=True))
        committee = Committee(config, keys, validator_set, ProposerSchedule(validator_set, 1),
                              {keys[index].address for index in config.faulty})
        signer: FakeSigner | RealSigner = (
            RealSigner() if config.real_signatures
            else FakeSigner([*keys, validator_key(STRANGER)]))
        records = Records()
        self.world = World(committee, Network(config, signer, records.counters), records)
        self.nodes = self.world.nodes = self._make_nodes()
        self.world.net.join([node.receive for node in self.nodes])
        self.honest = [n for n in self.nodes if n.role == "honest"]

    def _make_nodes(self) -> list[Node]:
        kinds, keys = dict(self.config.byzantine), self.world.committee.keys
        nodes: list[Node] = []
        for index, key in enumerate(keys):
            node_type = NODE_KINDS[kinds[index]] if index in kinds else HonestNode
            role = "twin" if index in self.config.twins else None
            nodes.append(node_type(self.world, index, key, role))
        for index in self.config.twins:
            nodes.append(HonestNode(self.world, len(nodes), keys[index], "twin"))
        for node in nodes:
            node.peers = [other.id for other in nodes if other is not node]
        return nodes

    def run(self) -> SimResult:
        started = time.perf_counter()
        config, net, records = self.config, self.world.net, self.world.records
        for node in self.nodes:
            net.at(0, node.boot)
        for crash in config.crashes:
            net.at(crash.at_ms, self.nodes[crash.node].crash)
            net.at(crash.at_ms + crash.down_ms, self.nodes[crash.node].restart)
        deadline = config.stable_ms + 30_000 + 3_000 * config.heights
        net.run(deadline, lambda: records.done >= len(self.honest))
        return self._result(time.perf_counter() - started)

    def _result(self, wall_s: float) -> SimResult:
        net, records = self.world.net, self.world.records
        decisions = {node.id: {h: (r, v, synced) for h, (r, v, _, synced) in
                               node.decided.items()} for node in self.nodes}
        max_round = max((r for node in self.honest for r, _, _, _ in node.decided.values()),
                        default=0)
        violations = find_violations(self.world.committee, records, self.honest)
        return SimResult(self.config, decisions, violations, net.messages, net.now, wall_s,
                         max_round, sum(len(n.evidence) for n in self.honest), records.counters)


def run_simulation(config: SimConfig) -> SimResult:
    return Simulation(config).run()


LEDGER: dict[int, list[SimResult]] = {}  # validators -> every checked run (for reporting)


def run_and_check(config: SimConfig) -> SimResult:
    """Run, record, and fail with a reproducible config on any violation."""
    result = run_simulation(config)
    LEDGER.setdefault(config.validators, []).append(result)
    assert not result.violations, f"{result.violations[:5]}\nreproduce: {result.repro()}"
    return result
