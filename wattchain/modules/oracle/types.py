"""Records, feed kinds and Protocols of the oracle module.

Every value is an integer in the feed's unit (floats never enter state).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wattchain.vm.records import Record


@dataclass(frozen=True)
class FeedKind:
    """A fixed feed: its unit and the range of plausible values (inclusive)."""

    name: str
    unit: str
    low: int
    high: int


FEEDS: dict[str, FeedKind] = {kind.name: kind for kind in (
    FeedKind("wholesale_price", "micro-units/kWh", -10_000_000, 100_000_000),
    FeedKind("irradiance", "W/m2", 0, 2_000),
    FeedKind("wind_speed", "mm/s", 0, 120_000),
    FeedKind("temperature", "milli-degC", -100_000, 100_000),
    FeedKind("grid_frequency", "mHz", 40_000, 70_000),
    FeedKind("emission_factor", "gCO2/kWh", 0, 2_000),
)}

MAX_ROUND = (1 << 48) - 1


@dataclass
class OracleParams(Record):
    """Genesis parameters.

    * ``round_ms``: round r covers block time [r * round_ms, (r + 1) * round_ms).
    * ``quorum``: submissions that finalize a round.
    * ``window_rounds``: how many rounds back a submission may still go.
    * ``outlier_percent``: a submission further than this from the median
      (relative to |median|) is reported as an ``outlier`` event.
    """

    round_ms: int = 60_000
    quorum: int = 1
    window_rounds: int = 5
    outlier_percent: int = 20


@dataclass
class Submission(Record):
    oracle: bytes
    value: int
    height: int
    time_ms: int


@dataclass
class Round:
    """The submissions of one (feed, zone, round), in arrival order.

    ``finalized_count`` is 0 while the round waits for its quorum; afterwards
    it is the number of submissions the median was taken over, ``value`` that
    median (0 while open) and ``finalized_ms`` the block time it was taken.
    Later submissions are appended but change none of them.
    """

    submissions: list[Submission] = field(default_factory=list)
    finalized_count: int = 0
    value: int = 0
    finalized_ms: int = 0

    @property
    def finalized(self) -> bool:
        return self.finalized_count > 0

    def has_submitted(self, oracle: bytes) -> bool:
        return any(item.oracle == oracle for item in self.submissions)

    def to_list(self) -> list[Any]:
        return [[item.to_list() for item in self.submissions], self.finalized_count,
                self.value, self.finalized_ms]

    @classmethod
    def from_list(cls, raw: list[Any]) -> Round:
        submissions, count, value, finalized_ms = raw
        return cls([Submission(*item) for item in submissions], count, value, finalized_ms)


@dataclass(frozen=True)
class LatestValue(Record):
    """A feed's newest finalized value for a zone; observed from ``round_start_ms``."""

    value: int
    round: int
    round_start_ms: int
    finalized_ms: int
