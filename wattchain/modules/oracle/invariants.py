"""Invariants of the oracle module, checked in tests after every block.

* Rounds: no oracle submits twice; values lie in their feed's range; a
  finalized round's value is the median of its first ``finalized_count``
  submissions.
* Latest values: each equals the value of the newest finalized round of its
  (feed, zone), and every finalized (feed, zone) has a latest value.
"""

from __future__ import annotations

from wattchain.modules.oracle.keeper import OracleKeeper
from wattchain.modules.oracle.rounds import compute_median
from wattchain.modules.oracle.types import FEEDS, Round
from wattchain.vm.state import StateReader


def round_problems(feed: str, zone: str, round_index: int, record: Round) -> list[str]:
    where = f"oracle: {feed}/{zone} round {round_index}"
    if feed not in FEEDS:
        return [f"{where} is of an unknown feed"]
    problems = []
    oracles = [item.oracle for item in record.submissions]
    if len(set(oracles)) != len(oracles):
        problems.append(f"{where} has two submissions from one oracle")
    kind = FEEDS[feed]
    if any(not kind.low <= item.value <= kind.high for item in record.submissions):
        problems.append(f"{where} holds a value outside {kind.low}..{kind.high}")
    if not record.submissions:
        problems.append(f"{where} is stored without submissions")
    elif record.finalized_count > len(record.submissions):
        problems.append(f"{where} was finalized over more submissions than it has")
    elif record.finalized:
        median = compute_median([item.value for item in
                                 record.submissions[:record.finalized_count]])
        if median != record.value:
            problems.append(f"{where} records {record.value}, its median is {median}")
    return problems


def check_all(keeper: OracleKeeper, state: StateReader) -> list[str]:
    problems: list[str] = []
    newest: dict[tuple[str, str], tuple[int, int]] = {}
    for feed, zone, round_index, record in keeper.iterate_rounds(state):
        problems += round_problems(feed, zone, round_index, record)
        if record.finalized:
            newest[(feed, zone)] = (round_index, record.value)  # rounds iterate in order
    latest = {(feed, zone): (value.round, value.value)
              for feed, zone, value in keeper.iterate_latest(state)}
    for pair in sorted(newest.keys() | latest.keys()):
        if newest.get(pair) != latest.get(pair):
            problems.append(f"oracle: {pair[0]}/{pair[1]} latest {latest.get(pair)} is not "
                            f"its newest finalized round {newest.get(pair)}")
    return problems
