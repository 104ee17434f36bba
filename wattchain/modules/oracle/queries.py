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
from wattchain.modules.oracle.types import FEEDS, MAX_ROUND, ZONE_ID
from wattchain.modules.oracle.views import latest_json, round_json
from wattchain.vm.errors import InvalidQuery
from wattchain.vm.state import StateReader


def data_feed_zone(data: Mapping[str, Any]) -> tuple[str, str]:
    feed, zone = data.get("feed"), data.get("zone")
    if feed not in FEEDS:
        raise InvalidQuery(f"data.feed must be one of {', '.join(FEEDS)}")
    if type(zone) is not str or not ZONE_ID.fullmatch(zone):
        raise InvalidQuery("data.zone must be a zone id")
    return str(feed), zone


def data_int(data: Mapping[str, Any], name: str, high: int) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if type(value) is not int or not 0 <= value <= high:
        raise InvalidQuery(f"data.{name} must be an integer in 0..{high}")
    return value


class OracleQueries:
    def __init__(self, keeper: OracleKeeper) -> None:
        self.keeper = keeper

    def params(self, state: StateReader, data: Mapping[str, Any]) -> Any:
        feeds = [{"feed": kind.name, "unit": kind.unit, "low": kind.low, "high": kind.high}
                 for kind in FEEDS.values()]
        return {**self.keeper.get_params(state).to_json(), "feeds": feeds}

    def feed(self, state: StateReader, data: Mapping[str, Any]) -> Any:
        """The latest value of {feed, zone}, with its round and (given now_ms) age."""
        feed, zone = data_feed_zone(data)
        now_ms = data_int(data, "now_ms", (1 << 63) - 1)
        latest = self.keeper.get_latest(state, feed, zone)
        if latest is None:
            raise RecordNotFound(f"no finalized {feed} value for zone {zone!r}")
        return latest_json(feed, zone, latest, now_ms)

    def round(self, state: StateReader, data: Mapping[str, Any]) -> Any:
        """Submissions, median and status of {feed, zone, round}."""
        feed, zone = data_feed_zone(data)
        round_index = data_int(data, "round", MAX_ROUND)
        if round_index is None:
            raise InvalidQuery("data.round is required")
        record = self.keeper.get_round(state, feed, zone, round_index)
        return round_json(feed, zone, round_index, record)

    def feeds(self, state: StateReader, data: Mapping[str, Any]) -> Any:
        """Every feed's latest value per zone, ordered by feed then zone."""
        now_ms = data_int(data, "now_ms", (1 << 63) - 1)
        return {"feeds": [latest_json(feed, zone, latest, now_ms)
                          for feed, zone, latest in self.keeper.iterate_latest(state)]}
