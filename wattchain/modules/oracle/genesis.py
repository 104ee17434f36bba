"""Genesis import and export of the oracle module.

Section shape (every field optional; export writes all of them)::

    {"params": {"round_ms": 60000, "quorum": 1, "window_rounds": 5,
                "outlier_percent": 20},
     "rounds": [{<the oracle/round view>}],
     "latest": [{<the oracle/feed view without age_ms>}]}

Rounds and latest values are imported as recorded and then checked against
the module's invariants, so export -> import is exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wattchain.crypto import parse_address
from wattchain.modules.oracle import types
from wattchain.modules.oracle.errors import OracleGenesisError
from wattchain.modules.oracle.invariants import check_all
from wattchain.modules.oracle.keeper import OracleKeeper
from wattchain.modules.oracle.views import latest_json, round_json
from wattchain.vm.fields import MAX_INT, ZONE_ID, GenesisFields
from wattchain.vm.state import Overlay, StateReader

FIELDS = GenesisFields(OracleGenesisError)
PARAM_RANGES = {"round_ms": (1, MAX_INT), "quorum": (1, 1_000),
                "window_rounds": (0, 1_000_000), "outlier_percent": (0, 1_000_000)}


def feed_zone(item: Mapping[str, Any]) -> tuple[str, str]:
    feed = item.get("feed")
    if feed not in types.FEEDS:
        raise OracleGenesisError(f"unknown feed {feed!r}")
    return str(feed), FIELDS.zone(item, ZONE_ID)


def round_from_json(item: Mapping[str, Any]) -> tuple[str, str, int, types.Round]:
    feed, zone = feed_zone(item)
    round_index = FIELDS.integer(item, "round", 0, types.MAX_ROUND)
    try:
        submissions = [types.Submission(parse_address(str(entry["oracle"])),
                                  FIELDS.integer(entry, "value", -MAX_INT, MAX_INT),
                                  FIELDS.integer(entry, "height"), FIELDS.integer(entry, "time_ms"))
                       for entry in item.get("submissions", [])]
    except (KeyError, TypeError, ValueError) as exc:
        raise OracleGenesisError(f"bad submission in {feed}/{zone} round {round_index}: "
                                 f"{exc}") from None
    record = types.Round(submissions, FIELDS.integer(item, "finalized_count"))
    if record.finalized:
        record.value = FIELDS.integer(item, "median", -MAX_INT, MAX_INT)
        record.finalized_ms = FIELDS.integer(item, "finalized_ms")
    return feed, zone, round_index, record


def init_genesis(keeper: OracleKeeper, state: Overlay, section: Mapping[str, Any]) -> None:
    keeper.set_params(state, FIELDS.params(section.get("params", {}), types.OracleParams,
                                           types.OracleParams().to_json(), PARAM_RANGES))
    for item in section.get("rounds", []):
        feed, zone, round_index, record = round_from_json(item)
        keeper.set_round(state, feed, zone, round_index, record)
    for item in section.get("latest", []):
        feed, zone = feed_zone(item)
        keeper.set_latest(state, feed, zone, types.LatestValue(
            FIELDS.integer(item, "value", -MAX_INT, MAX_INT),
            FIELDS.integer(item, "round", 0, types.MAX_ROUND),
            FIELDS.integer(item, "round_start_ms"), FIELDS.integer(item, "finalized_ms")))
    problems = check_all(keeper, state)
    if problems:
        raise OracleGenesisError("; ".join(problems))


def export_genesis(keeper: OracleKeeper, state: StateReader) -> dict[str, Any]:
    return {
        "params": keeper.params(state).to_json(),
        "rounds": [round_json(feed, zone, round_index, record)
                   for feed, zone, round_index, record in keeper.iterate_rounds(state)],
        "latest": [latest_json(feed, zone, latest)
                   for feed, zone, latest in keeper.iterate_latest(state)],
    }
