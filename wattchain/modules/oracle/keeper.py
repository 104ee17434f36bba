"""State reads and writes of the oracle module: params, rounds, latest values.

The keeper is also what other modules read feed values from (``latest``).
"""

from __future__ import annotations

from collections.abc import Iterator

from wattchain import codec
from wattchain.modules.oracle import keys
from wattchain.modules.oracle.types import LatestValue, OracleParams, Round
from wattchain.vm.params import ParamsKeeper
from wattchain.vm.state import Overlay, StateReader


class OracleKeeper(ParamsKeeper[OracleParams]):
    def __init__(self) -> None:
        super().__init__(keys.PARAMS_KEY, OracleParams)

    def get_round(self, state: StateReader, feed: str, zone: str, round_index: int) -> Round:
        """The round's record; an empty, open round when nobody submitted yet."""
        raw = state.get(keys.round_key(feed, zone, round_index))
        return Round() if raw is None else Round.from_list(codec.decode(raw))

    def set_round(self, state: Overlay, feed: str, zone: str, round_index: int,
                  record: Round) -> None:
        state.set(keys.round_key(feed, zone, round_index), codec.encode(record.to_list()))

    def iterate_rounds(self, state: StateReader) -> Iterator[tuple[str, str, int, Round]]:
        for key, raw in state.iterate(keys.ROUND_PREFIX):
            feed, zone, round_index = keys.split_round_key(key)
            yield feed, zone, round_index, Round.from_list(codec.decode(raw))

    def get_latest(self, state: StateReader, feed: str, zone: str) -> LatestValue | None:
        raw = state.get(keys.latest_key(feed, zone))
        return None if raw is None else LatestValue(*codec.decode(raw))

    def set_latest(self, state: Overlay, feed: str, zone: str, latest: LatestValue) -> None:
        state.set(keys.latest_key(feed, zone), codec.encode(latest.to_list()))

    def iterate_latest(self, state: StateReader) -> Iterator[tuple[str, str, LatestValue]]:
        for key, raw in state.iterate(keys.LATEST_PREFIX):
            feed, zone = keys.split_latest_key(key)
            yield feed, zone, LatestValue(*codec.decode(raw))

    # -- what balancing reads ----------------------------------------------------------

    def latest(self, state: StateReader, feed: str, zone: str, now_ms: int,
               max_age_ms: int) -> int | None:
        """The newest finalized value, or None when missing or older than ``max_age_ms``
        (age counted from the start of the value's round)."""
        record = self.get_latest(state, feed, zone)
        if record is None or now_ms - record.round_start_ms > max_age_ms:
            return None
        return record.value
