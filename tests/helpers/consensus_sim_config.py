"""What a consensus simulation runs: the validators, the faults and their schedule.

A ``SimConfig`` determines a run completely (with its seed); ``make_schedule``
draws a concrete fault schedule from a seed.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from wattchain.consensus.driver import Driver
from wattchain.crypto import PrivateKey

STRANGER = 999  # key index of a signer outside every validator set


@functools.cache
def validator_key(index: int) -> PrivateKey:
    return PrivateKey((index + 1).to_bytes(32, "big"))


@dataclass(frozen=True)
class Partition:
    """Between start_ms and end_ms only nodes of the same group can talk."""

    start_ms: int
    end_ms: int
    groups: tuple[tuple[int, ...], ...]  # node ids; a node in no group is cut off


@dataclass(frozen=True)
class SimConfig:
    validators: int = 4
    heights: int = 20
    seed: int = 0
    powers: tuple[int, ...] = ()  # default: power 1 each
    min_delay_ms: int = 5
    max_delay_ms: int = 60
    drop_rate: float = 0.0
    duplicate_rate: float = 0.0
    lossy_until_ms: int = 0  # drops stop here
    partitions: tuple[Partition, ...] = ()
    crashes: tuple[Crash, ...] = ()
    byzantine: tuple[tuple[int, str], ...] = ()  # (validator, "equivocate"|"silent"|"junk")
    twins: tuple[int, ...] = ()  # validators run as two nodes; copy k is node validators + k
    real_signatures: bool = False
    driver_class: type[Driver] = Driver
    gossip_ms: int = 1_000

    @property
    def stable_ms(self) -> int:
        """GST: no drops, partitions or crashed nodes from here on."""
        ends = [self.lossy_until_ms if self.drop_rate else 0]
        ends += [p.end_ms for p in self.partitions]
        ends += [c.at_ms + c.down_ms for c in self.crashes]
        return max(ends)

    @property
    def faulty(self) -> set[int]:
        return {index for index, _ in self.byzantine} | set(self.twins)


@dataclass(frozen=True)
class Crash:
    """Node ``node`` loses its volatile state at ``at_ms`` and restarts from
    its WAL ``down_ms`` later."""

    node: int
    at_ms: int
    down_ms: int


def make_schedule(validators: int, heights: int, seed: int, *, faults: Sequence[str] = (),
                  faulty: Sequence[int] | None = None, partitions: int = 0, crashes: int = 0,
                  drop_rate: float = 0.0, duplicate_rate: float = 0.0, max_delay_ms: int = 60,
                  **options: Any) -> SimConfig:
    """A concrete fault schedule drawn from ``seed``. ``faults`` holds "equivocate",
    "silent", "junk" or "twin" per faulty validator (``faulty`` names them, else
    they are drawn); partition phases (twin copies always on opposite sides),
    crashes of honest nodes and the end of the lossy period all come from
    ``random.Random(seed)``."""
    rng = random.Random(seed)
    if faulty is None:
        faulty = rng.sample(range(validators), len(faults))
    twins = tuple(v for v, kind in zip(faulty, faults, strict=True) if kind == "twin")
    byzantine = tuple((v, kind) for v, kind in zip(faulty, faults, strict=True)
                      if kind != "twin")
    phases = _partition_phases(rng, validators, twins, partitions)
    honest = [n for n in range(validators) if n not in faulty]
    crash_list = tuple(Crash(rng.choice(honest), rng.randrange(6_000), rng.randrange(100, 4_000))
                       for _ in range(crashes))
    return SimConfig(validators=validators, heights=heights, seed=seed,
                     max_delay_ms=max_delay_ms, drop_rate=drop_rate,
                     duplicate_rate=duplicate_rate,
                     lossy_until_ms=rng.randrange(1_000, 8_000) if drop_rate else 0,
                     partitions=phases, crashes=crash_list, byzantine=byzantine,
                     twins=twins, **options)


def _partition_phases(rng: random.Random, validators: int, twins: tuple[int, ...],
                      count: int) -> tuple[Partition, ...]:
    """``count`` partitions in two, one after the other, each twin's copies on
    opposite sides."""
    node_ids = list(range(validators + len(twins)))
    phases, start = [], rng.randrange(1_500)
    for _ in range(count):
        end = start + rng.randrange(300, 4_000)
        others = [n for n in node_ids if n not in twins and n < validators]
        rng.shuffle(others)
        cut = rng.randrange(1, len(others))
        sides = [others[:cut], others[cut:]]
        for copy, original in enumerate(twins):
            side = rng.randrange(2)
            sides[side].append(original)
            sides[1 - side].append(validators + copy)
        phases.append(Partition(start, end, (tuple(sides[0]), tuple(sides[1]))))
        start = end + rng.randrange(1_500)
    return tuple(phases)
