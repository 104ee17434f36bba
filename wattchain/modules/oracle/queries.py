"""Read-only queries (abci_query paths ``oracle/<name>``).

``data`` is a JSON object of named arguments. Queries cannot see the block
time, so ``feed`` and ``feeds`` report a value's age only when the caller
passes ``now_ms`` (ms of block time). A bad argument raises InvalidQuery, a
missing record RecordNotFound.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wattchain.modules.oracle.errors import RecordNotFound
from wattchain.modules.oracle.keeper import OracleKeeper
from wattchain.modules.oracle.types import FEEDS, MAX_ROUND
from wattchain.modules.oracle.views import latest_json, round_json
from wattchain.vm.errors import InvalidQuery
from wattchain.vm.fields import (
    MAX_INT,
    ZONE_ID,
    query_choice,
    query_optional_int,
    query_text,
)
from wattchain.vm.state import StateReader


def data_feed_zone(data: Mapping[str, Any]) -> tuple[str, str]:
    return query_choice(data, "feed", FEEDS), query_text(
        data, "zone", pattern=ZONE_ID, message="data.zone must be a zone id")


class OracleQueries:
    def __init__(self, keeper: OracleKeeper) -> None:
        self.keeper = keeper

    def params(self, state: StateReader, data: Mapping[str, Any]) -> Any:
        feeds = [{"feed": kind.name, "unit": kind.unit, "low": kind.low, "high": kind.high}
                 for kind in FEEDS.values()]
        return {**self.keeper.params(state).to_json(), "feeds": feeds}

    def feed(self, state: StateReader, data: Mapping[str, Any]) -> Any:
        """The latest value of {feed, zone}, with its round and (given now_ms) age."""
        feed, zone = data_feed_zone(data)
        now_ms = query_optional_int(data, "now_ms", high=MAX_INT)
        latest = self.keeper.get_latest(state, feed, zone)
        if latest is None:
            raise RecordNotFound(f"no finalized {feed} value for zone {zone!r}")
        return latest_json(feed, zone, latest, now_ms)

    def round(self, state: StateReader, data: Mapping[str, Any]) -> Any:
        """Submissions, median and status of {feed, zone, round}."""
        feed, zone = data_feed_zone(data)
        round_index = query_optional_int(data, "round", high=MAX_ROUND)
        if round_index is None:
            raise InvalidQuery("data.round is required")
        record = self.keeper.get_round(state, feed, zone, round_index)
        return round_json(feed, zone, round_index, record)

    def feeds(self, state: StateReader, data: Mapping[str, Any]) -> Any:
        """Every feed's latest value per zone, ordered by feed then zone."""
        now_ms = query_optional_int(data, "now_ms", high=MAX_INT)
        return {"feeds": [latest_json(feed, zone, latest, now_ms)
                          for feed, zone, latest in self.keeper.iterate_latest(state)]}
