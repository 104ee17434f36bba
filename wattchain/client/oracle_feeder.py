"""An oracle feeder: read feed values from a CSV or JSON file, or generate
them from a seeded simulated source, and submit each as the oracle account
(what `wattchain oracle feed` runs).

Values are integers in the feed's unit (the `oracle/params` query lists them);
files may write them as decimal strings, which must be whole numbers
("21500", "21500.0"), never rounded. Rows name their round directly
(``round``) or by a block time in ms (``time_ms``); the simulator submits the
chain's current round, each feed once, then waits for the next round.
"""

from __future__ import annotations

import csv
import json
import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from wattchain.client.errors import ClientError
from wattchain.client.rpc import RpcClient
from wattchain.client.tx import TxBuilder, broadcast_tx
from wattchain.crypto import PrivateKey
from wattchain.modules.oracle.types import FEEDS
from wattchain.types import sign_tx

DAY_MS = 86_400_000


@dataclass(frozen=True)
class FeedValue:
    feed: str
    value: int
    round: int | None = None  # None: the chain's current round at submission
    time_ms: int | None = None


def parse_integer(text: Any, what: str) -> int:
    """An exact integer from an int or a decimal string; refuses fractions."""
    if type(text) is int:
        return text
    try:
        number = Decimal(str(text).strip())
    except InvalidOperation:
        raise ClientError(f"{what} must be an integer, got {text!r}") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise ClientError(f"{what} must be a whole number in the feed's unit, got {text!r}")
    return int(number)


def row_value(row: dict[str, Any], line: str) -> FeedValue:
    feed = str(row.get("feed", "")).strip()
    if feed not in FEEDS:
        raise ClientError(f"{line}: unknown feed {feed!r}; feeds are {', '.join(FEEDS)}")
    value = parse_integer(row.get("value"), f"{line}: value")
    round_text, time_text = row.get("round"), row.get("time_ms", row.get("time"))
    if round_text not in (None, ""):
        return FeedValue(feed, value, round=parse_integer(round_text, f"{line}: round"))
    if time_text not in (None, ""):
        return FeedValue(feed, value, time_ms=parse_integer(time_text, f"{line}: time_ms"))
    return FeedValue(feed, value)


def read_csv(path: Path) -> list[FeedValue]:
    """Rows with a header: ``feed,value`` and ``round`` or ``time_ms`` (or neither)."""
    with path.open(newline="") as handle:
        return [row_value(row, f"{path.name} line {number}")
                for number, row in enumerate(csv.DictReader(handle), start=2)]


def read_json(path: Path) -> list[FeedValue]:
    """A list of objects {"feed", "value", optional "round" or "time_ms"}."""
    data = json.loads(path.read_text())
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise ClientError(f"{path.name}: expected a JSON list of objects")
    return [row_value(row, f"{path.name} item {index}") for index, row in enumerate(data)]


def simulate(seed: int, round_index: int, round_ms: int) -> list[FeedValue]:
    """One round of every feed; the same (seed, round) always gives the same values.

    Irradiance follows a bell curve around noon of the round's block time;
    temperature a daily swing; the rest wander around plausible levels.
    """
    rng = random.Random(f"{seed}:{round_index}")
    hour = (round_index * round_ms % DAY_MS) / 3_600_000
    sun = math.exp(-(((hour - 12.0) / 3.0) ** 2))
    irradiance = max(0, int(900 * sun) + rng.randint(-20, 20)) if 6 <= hour <= 18 else 0
    values = {
        "temperature": int(8_000 + 7_000 * sun) + rng.randint(-500, 500),
        "irradiance": irradiance,
        "wind_speed": max(0, 6_000 + rng.randint(-2_500, 2_500)),
        "grid_frequency": 50_000 + rng.randint(-60, 60),
        "wholesale_price": 80_000 + rng.randint(-20_000, 20_000) - 30_000 * irradiance // 900,
        "emission_factor": max(50, 380 - irradiance // 5 + rng.randint(-15, 15)),
    }
    return [FeedValue(feed, value, round=round_index) for feed, value in values.items()]


class OracleFeeder:
    """Submits feed values for one zone, one tx at a time (each committed before
    the next); ``summary`` counts what was submitted, accepted and rejected."""

    def __init__(self, client: RpcClient, signer: PrivateKey, zone: str,
                 fee: int | None = None) -> None:
        self.client, self.signer, self.zone, self.fee = client, signer, zone, fee
        self.builder = TxBuilder(client)
        self.round_ms = int(client.query("oracle/params")["round_ms"])
        self.summary: dict[str, Any] = {"zone": zone, "submitted": 0, "accepted": 0,
                                        "rejected": 0, "rejections": [], "rounds": []}

    def current_round(self) -> int:
        return self.client.latest_time_ms() // self.round_ms

    def round_of(self, item: FeedValue) -> int:
        if item.round is not None:
            return item.round
        if item.time_ms is not None:
            return item.time_ms // self.round_ms
        return self.current_round()

    def submit(self, item: FeedValue) -> None:
        """Submit one value; a refusal or failure is recorded in ``summary``."""
        round_index = self.round_of(item)
        tx = self.builder.build(self.signer.address, "oracle", "submit",
                                [item.feed, self.zone, round_index, item.value], self.fee)
        outcome = broadcast_tx(self.client, sign_tx(tx, self.signer))
        self.summary["submitted"] += 1
        if round_index not in self.summary["rounds"]:
            self.summary["rounds"].append(round_index)
        for check in (outcome.check, outcome.result or {}):
            if check.get("code", 0) != 0:
                self.summary["rejected"] += 1
                self.summary["rejections"].append({
                    "feed": item.feed, "round": round_index, "value": item.value,
                    "code": check["code"], "codespace": check["codespace"],
                    "log": check["log"]})
                return
        self.summary["accepted"] += 1

    def wait_for_round_after(self, round_index: int, timeout_s: float) -> int:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            current = self.current_round()
            if current > round_index:
                return current
            time.sleep(0.1)
        raise ClientError(f"the chain did not reach round {round_index + 1} in "
                          f"{timeout_s:.0f} s")

    def feed(self, rows: list[FeedValue], interval_s: float = 0.0,
             on_submit: Callable[[], None] | None = None) -> None:
        """Submit ``rows`` in order, pausing ``interval_s`` between them."""
        for index, item in enumerate(rows):
            if index and interval_s > 0:
                time.sleep(interval_s)
            self.submit(item)
            if on_submit is not None:
                on_submit()

    def feed_simulated(self, seed: int, count: int, interval_s: float | None = None,
                       on_submit: Callable[[], None] | None = None) -> None:
        """Submit ``count`` rounds of every feed from the seeded simulated source."""
        for values in simulated_rounds(self, seed, count, interval_s):
            self.feed(values, 0.0, on_submit)


def simulated_rounds(feeder: OracleFeeder, seed: int, count: int,
                     interval_s: float | None) -> Iterator[list[FeedValue]]:
    """``count`` rounds of simulated values: the current round, then each next one
    (or, with ``interval_s``, whatever round is current after that pause)."""
    round_index = feeder.current_round()
    for step in range(count):
        if step:
            if interval_s is None:
                round_index = feeder.wait_for_round_after(
                    round_index, 3 * feeder.round_ms / 1000 + 10)
            else:
                time.sleep(interval_s)
                round_index = feeder.current_round()
        yield simulate(seed, round_index, feeder.round_ms)
