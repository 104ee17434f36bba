"""Event queries, the in-process event bus behind `subscribe` and `tx_search`,
the events a committed block publishes, and the waiters of broadcast_tx_commit.

A query is a conjunction, as CometBFT users write it::

    tm.event='Tx' AND tx.sender='0xab..' AND accounts.transfer.amount>=100

Keys: ``tm.event`` (NewBlock, Tx, EndBlock for what modules did at the end
of a block: clearings, trades, settlements, or TxEvicted for a pending tx the
mempool dropped), ``tx.hash``, ``tx.height``, ``tx.sender``, ``tx.module``,
``tx.method``, ``tx.code``, ``tx.nonce`` and ``evicted.reason`` (TxEvicted), and
``module.kind.attribute`` for any event attribute. Operators: = != < <= > >=;
numbers compare as integers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import trio

from wattchain.crypto import format_address
from wattchain.node.rpc_views import result_json
from wattchain.types import Block, Event, SignedTx
from wattchain.vm.execution import BlockResult, TxResult

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


def tx_event_data(tx_id: bytes, height: int, index: int, result: TxResult) -> dict[str, Any]:
    return {"hash": tx_id.hex(), "height": height, "index": index,
            "result": result_json(result)}


def tx_evicted_event(stx: SignedTx, reason: str, height: int) -> tuple[
        dict[str, list[str]], dict[str, Any]]:
    """Tags and data of the TxEvicted event: a tx the mempool had accepted left it
    without being committed (``reason`` is a key of mempool.EVICTION_REASONS);
    ``height`` is the next block's."""
    tx_hash, sender = stx.tx_id.hex(), format_address(stx.tx.sender)
    tags = {"tm.event": ["TxEvicted"], "tx.hash": [tx_hash], "tx.sender": [sender],
            "tx.nonce": [str(stx.tx.nonce)], "evicted.reason": [reason]}
    return tags, {"hash": tx_hash, "sender": sender, "nonce": stx.tx.nonce,
                  "reason": reason, "height": height}


def end_block_event(height: int, events: list[Event]) -> tuple[dict[str, list[str]],
                                                                  dict[str, Any]]:
    """Tags and data of the EndBlock event: what modules did at the end of a block."""
    tags: dict[str, list[str]] = {"tm.event": ["EndBlock"], "block.height": [str(height)]}
    add_event_tags(tags, events)
    return tags, {"height": height, "events": [e.to_json() for e in events]}


def new_block_event(block: Block, block_hash: bytes, result: BlockResult) -> tuple[
        dict[str, list[str]], dict[str, Any]]:
    """Tags and data of the NewBlock event of a committed block."""
    header = block.header
    data = {"height": header.height, "hash": block_hash.hex(), "time_ms": header.time_ms,
            "num_txs": len(block.txs), "app_hash": result.app_hash.hex(),
            "end_block_events": [e.to_json() for e in result.end_block_events]}
    return {"tm.event": ["NewBlock"], "block.height": [str(header.height)]}, data


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


@dataclass(slots=True)
class Inclusion:
    """Where a committed tx landed, and what it did."""

    height: int
    index: int
    result: TxResult


@dataclass
class CommitWaiters:
    """broadcast_tx_commit callers waiting for their tx to land in a block."""

    waiting: dict[bytes, tuple[trio.Event, list[Inclusion]]] = field(default_factory=dict)

    async def wait(self, tx_id: bytes, timeout_s: float) -> Inclusion | None:
        event, box = self.waiting.setdefault(tx_id, (trio.Event(), []))
        with trio.move_on_after(timeout_s):
            await event.wait()
        if not event.is_set() and tx_id in self.waiting and self.waiting[tx_id][0] is event:
            del self.waiting[tx_id]
        return box[0] if box else None

    def notify(self, tx_id: bytes, inclusion: Inclusion) -> None:
        entry = self.waiting.pop(tx_id, None)
        if entry is not None:
            entry[1].append(inclusion)
            entry[0].set()
