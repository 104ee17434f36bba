"""Event queries and the in-process event bus behind `subscribe` and `tx_search`.

A query is a conjunction, as CometBFT users write it::

    tm.event='Tx' AND tx.sender='0xab..' AND accounts.transfer.amount>=100

Keys: ``tm.event`` (NewBlock, Tx, or EndBlock for what modules did at the end
of a block: clearings, trades, settlements), ``tx.hash``, ``tx.height``, ``tx.sender``,
``tx.module``, ``tx.method``, ``tx.code``, and ``module.kind.attribute`` for
any event attribute. Operators: = != < <= > >=; numbers compare as integers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import trio

from wattchain.crypto import format_address
from wattchain.types import Event, SignedTx
from wattchain.vm.execution import TxResult

_CONDITION = re.compile(
    r"^\s*([A-Za-z0-9_.\-]+)\s*(<=|>=|!=|=|<|>)\s*(?:'([^']*)'|(-?\d+))\s*$"
)
MAX_CONDITIONS = 8


class QueryError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Condition:
    key: str
    operator: str
    value: str | int

    def matches(self, values: Iterable[str]) -> bool:
        return any(self._match_one(v) for v in values)

    def _match_one(self, candidate: str) -> bool:
        if isinstance(self.value, int):
            try:
                number = int(candidate)
            except ValueError:
                return False
            return _compare(number, self.operator, self.value)
        if self.operator == "=":
            return candidate == self.value
        if self.operator == "!=":
            return candidate != self.value
        return _compare(candidate, self.operator, self.value)


def _compare(left: Any, operator: str, right: Any) -> bool:
    outcomes: dict[str, bool] = {
        "=": left == right, "!=": left != right, "<": left < right,
        "<=": left <= right, ">": left > right, ">=": left >= right,
    }
    return outcomes[operator]


@dataclass(frozen=True, slots=True)
class Query:
    text: str
    conditions: tuple[Condition, ...]

    @classmethod
    def parse(cls, text: str) -> Query:
        if not isinstance(text, str) or not text.strip():
            raise QueryError("query must be a non-empty string such as \"tm.event='NewBlock'\"")
        parts = re.split(r"\s+AND\s+", text.strip())
        if len(parts) > MAX_CONDITIONS:
            raise QueryError(f"a query may have at most {MAX_CONDITIONS} conditions")
        conditions = []
        for part in parts:
            match = _CONDITION.match(part)
            if match is None:
                raise QueryError(f"cannot parse condition {part!r}; use key='value' or key>=N")
            key, operator, text_value, number = match.groups()
            value: str | int = int(number) if number is not None else text_value
            conditions.append(Condition(key, operator, value))
        return cls(text, tuple(conditions))

    def matches(self, tags: Mapping[str, list[str]]) -> bool:
        return all(c.matches(tags.get(c.key, ())) for c in self.conditions)

    def equal_value(self, key: str) -> str | None:
        for condition in self.conditions:
            if condition.key == key and condition.operator == "=":
                return str(condition.value)
        return None


def tx_tags(stx: SignedTx | bytes, height: int, index: int, result: TxResult,
            tx_hash: str) -> dict[str, list[str]]:
    tags: dict[str, list[str]] = {
        "tm.event": ["Tx"], "tx.hash": [tx_hash], "tx.height": [str(height)],
        "tx.index": [str(index)], "tx.code": [str(result.code)],
    }
    if isinstance(stx, SignedTx):
        tags["tx.sender"] = [format_address(stx.tx.sender)]
        tags["tx.module"] = [stx.tx.module]
        tags["tx.method"] = [stx.tx.method]
    add_event_tags(tags, result.events)
    return tags


def add_event_tags(tags: dict[str, list[str]], events: Iterable[Event]) -> None:
    for event in events:
        for key, value in event.attributes:
            tags.setdefault(f"{event.module}.{event.kind}.{key}", []).append(value)


@dataclass(eq=False)
class Subscription:
    query: Query
    send: trio.MemorySendChannel[dict[str, Any]]
    dropped: bool = False


@dataclass
class EventBus:
    """Fans published events out to subscriptions whose query matches.

    A subscriber that does not keep up (its buffer is full) is dropped rather
    than slowing the node down; it learns so when its channel closes.
    """

    buffer: int = 1_000
    subscriptions: list[Subscription] = field(default_factory=list)

    def subscribe(self, query: Query) -> tuple[Subscription, trio.MemoryReceiveChannel[Any]]:
        send, receive = trio.open_memory_channel[dict[str, Any]](self.buffer)
        subscription = Subscription(query, send)
        self.subscriptions.append(subscription)
        return subscription, receive

    def unsubscribe(self, subscription: Subscription) -> None:
        if subscription in self.subscriptions:
            self.subscriptions.remove(subscription)
        subscription.send.close()

    def publish(self, tags: Mapping[str, list[str]], data: dict[str, Any]) -> None:
        for subscription in list(self.subscriptions):
            if not subscription.query.matches(tags):
                continue
            try:
                subscription.send.send_nowait(
                    {"query": subscription.query.text, "data": data,
                     "events": {k: list(v) for k, v in tags.items()}}
                )
            except (trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
                subscription.dropped = True
                self.unsubscribe(subscription)

    @property
    def active(self) -> bool:
        return bool(self.subscriptions)
