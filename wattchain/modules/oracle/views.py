"""JSON views of oracle records, shared by queries and genesis export."""

from __future__ import annotations

from typing import Any

from wattchain.crypto import format_address
from wattchain.modules.oracle.types import LatestValue, Round, Submission


def submission_json(item: Submission) -> dict[str, Any]:
    return {"oracle": format_address(item.oracle), "value": item.value,
            "height": item.height, "time_ms": item.time_ms}


def round_json(feed: str, zone: str, round_index: int, record: Round) -> dict[str, Any]:
    return {"feed": feed, "zone": zone, "round": round_index,
            "submissions": [submission_json(item) for item in record.submissions],
            "finalized": record.finalized, "finalized_count": record.finalized_count,
            "median": record.value if record.finalized else None,
            "finalized_ms": record.finalized_ms if record.finalized else None}


def latest_json(feed: str, zone: str, latest: LatestValue,
                now_ms: int | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {"feed": feed, "zone": zone, "value": latest.value,
                            "round": latest.round, "round_start_ms": latest.round_start_ms,
                            "finalized_ms": latest.finalized_ms}
    if now_ms is not None:
        view["age_ms"] = max(0, now_ms - latest.round_start_ms)
    return view
