"""The one tx method of the oracle module.

``submit [feed, zone, round, value]`` (oracle): record the sender's value for
a (feed, zone, round). The round must have started and be at most
``window_rounds`` old at the block's time. Each oracle submits once per
round. The submission that brings the count to ``quorum`` finalizes the
round: its value becomes the median (``rounds``) and, unless a newer round
is already final, the feed's latest value. Every submission deviating from
the median by more than ``outlier_percent`` is reported as ``outlier``.
"""

from __future__ import annotations

from typing import Any

from wattchain.modules.oracle.errors import (
    DuplicateSubmission,
    MissingRole,
    RoundInFuture,
    RoundTooOld,
    UnknownFeed,
    ValueOutOfRange,
)
from wattchain.modules.oracle.expected import RoleChecker
from wattchain.modules.oracle.keeper import OracleKeeper
from wattchain.modules.oracle.rounds import compute_median, is_outlier, round_of
from wattchain.modules.oracle.types import (
    FEEDS,
    MAX_ROUND,
    LatestValue,
    OracleParams,
    Round,
    Submission,
)
from wattchain.vm.errors import InvalidArgs
from wattchain.vm.fields import arg_int, arg_zone_id, expect_args
from wattchain.vm.interface import Context, require_role


def check_feed(value: Any) -> str:
    if type(value) is not str or value not in FEEDS:
        raise UnknownFeed(f"unknown feed {value!r}; feeds are {', '.join(FEEDS)}")
    return value


def check_value(feed: str, value: Any) -> int:
    kind = FEEDS[feed]
    if type(value) is not int:
        raise InvalidArgs("value must be an integer")
    if not kind.low <= value <= kind.high:
        raise ValueOutOfRange(f"{feed} must lie in {kind.low}..{kind.high} {kind.unit}")
    return value


class OracleHandlers:
    def __init__(self, keeper: OracleKeeper, roles: RoleChecker) -> None:
        self.keeper = keeper
        self.roles = roles

    def submit(self, ctx: Context, args: list[Any]) -> None:
        feed_raw, zone_raw, round_raw, value_raw = expect_args(
            args, 4, "feed, zone, round, value")
        require_role(self.roles, ctx, "oracle", MissingRole,
                     "submitting feed values needs the 'oracle' role")
        feed, zone = check_feed(feed_raw), arg_zone_id(zone_raw)
        round_index = arg_int(round_raw, "round", 0, MAX_ROUND)
        value = check_value(feed, value_raw)
        params = self.keeper.params(ctx.state)
        self.check_round_open(params, round_index, ctx.time_ms)
        record = self.keeper.get_round(ctx.state, feed, zone, round_index)
        if record.has_submitted(ctx.sender):
            raise DuplicateSubmission(f"you already submitted {feed} for zone {zone!r} in "
                                      f"round {round_index}")
        record.submissions.append(Submission(ctx.sender, value, ctx.height, ctx.time_ms))
        where = {"feed": feed, "zone": zone, "round": round_index}
        ctx.emit("submitted", {**where, "oracle": ctx.sender, "value": value})
        if record.finalized:
            self.report_outliers(ctx, params, where, record.submissions[-1:], record.value)
        elif len(record.submissions) >= params.quorum:
            self.finalize(ctx, params, feed, zone, round_index, record)
            self.report_outliers(ctx, params, where, record.submissions, record.value)
        self.keeper.set_round(ctx.state, feed, zone, round_index, record)

    @staticmethod
    def check_round_open(params: OracleParams, round_index: int, time_ms: int) -> None:
        current = round_of(time_ms, params.round_ms)
        if round_index > current:
            raise RoundInFuture(f"round {round_index} has not started (the current round "
                                f"is {current})")
        if round_index < current - params.window_rounds:
            raise RoundTooOld(f"round {round_index} is closed; rounds from "
                              f"{current - params.window_rounds} to {current} are open")

    def finalize(self, ctx: Context, params: OracleParams, feed: str, zone: str,
                 round_index: int, record: Round) -> None:
        record.finalized_count = len(record.submissions)
        record.value = compute_median([item.value for item in record.submissions])
        record.finalized_ms = ctx.time_ms
        ctx.emit("finalized", {"feed": feed, "zone": zone, "round": round_index,
                               "value": record.value, "submissions": record.finalized_count})
        latest = self.keeper.get_latest(ctx.state, feed, zone)
        if latest is None or latest.round < round_index:  # a late old round stays history
            self.keeper.set_latest(ctx.state, feed, zone, LatestValue(
                record.value, round_index, round_index * params.round_ms, ctx.time_ms))

    @staticmethod
    def report_outliers(ctx: Context, params: OracleParams, where: dict[str, Any],
                        submissions: list[Submission], median: int) -> None:
        for item in submissions:
            if is_outlier(item.value, median, params.outlier_percent):
                ctx.emit("outlier", {**where, "oracle": item.oracle, "value": item.value,
                                     "median": median})
