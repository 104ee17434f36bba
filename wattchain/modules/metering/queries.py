"""Read-only queries of the metering module (abci_query paths ``metering/...``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wattchain.crypto import format_address, parse_address
from wattchain.modules.metering import keys
from wattchain.modules.metering.errors import RecordNotFound
from wattchain.modules.metering.keeper import MeteringKeeper
from wattchain.modules.metering.types import Meter
from wattchain.modules.metering.views import energy_json, meter_json, reading_json
from wattchain.vm.errors import InvalidQuery
from wattchain.vm.params import load_params
from wattchain.vm.state import StateReader

MAX_LIMIT = 10_000


def text_field(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidQuery(f"this query needs data {{\"{name}\": \"...\"}}")
    return value


def int_field(data: Mapping[str, Any], name: str, default: int) -> int:
    value = data.get(name, default)
    if type(value) is not int or value < 0:
        raise InvalidQuery(f"data.{name} must be a non-negative integer")
    return value


def address_field(data: Mapping[str, Any], name: str) -> bytes:
    try:
        return parse_address(text_field(data, name))
    except ValueError as exc:
        raise InvalidQuery(str(exc)) from None


def time_range(data: Mapping[str, Any]) -> tuple[int, int, int]:
    """(from_ms, to_ms, limit) of a query; to_ms is exclusive."""
    start = int_field(data, "from_ms", 0)
    end = int_field(data, "to_ms", (1 << 63) - 1)
    limit = int_field(data, "limit", 1000)
    if end < start or not 0 < limit <= MAX_LIMIT:
        raise InvalidQuery(f"need from_ms <= to_ms and limit in 1..{MAX_LIMIT}")
    return start, end, limit


class MeteringQueries:
    def __init__(self, keeper: MeteringKeeper) -> None:
        self.keeper = keeper

    def load_meter(self, state: StateReader, data: Mapping[str, Any]) -> tuple[str, Meter]:
        meter_id = text_field(data, "meter_id")
        meter = self.keeper.get_meter(state, meter_id)
        if meter is None:
            raise RecordNotFound(f"no meter {meter_id!r}")
        return meter_id, meter

    def params(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        return {**self.keeper.params(state).to_json(),
                "interval_ms": load_params(state).interval_ms,
                "closed_until_ms": self.keeper.closed_until(state)}

    def meter(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        meter_id, meter = self.load_meter(state, data)
        return {**meter_json(meter_id, meter),
                "gaps": [[a, b] for a, b in self.keeper.gaps(state, meter_id)]}

    def meters(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        """Filters: account, zone_id, operator, type."""
        filters = {name: data[name] for name in ("account", "zone_id", "operator", "type")
                   if name in data}
        items = []
        for meter_id, meter in self.keeper.iterate_meters(state):
            view = meter_json(meter_id, meter)
            if all(str(view[name]).lower() == str(value).lower()
                   for name, value in filters.items()):
                items.append(view)
        return {"meters": items}

    def readings(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        """Readings of meter_id with from_ms <= time < to_ms, by sequence."""
        meter_id, _ = self.load_meter(state, data)
        start, end, limit = time_range(data)
        items = [reading_json(seq, reading)
                 for seq, reading in self.keeper.readings(state, meter_id)
                 if start <= reading.time_ms < end]
        return {"meter_id": meter_id, "readings": items[:limit],
                "truncated": len(items) > limit}

    def intervals(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        """Interval energy of one meter_id, account or zone_id in [from_ms, to_ms)."""
        if "meter_id" in data:
            prefix = keys.meter_intervals_prefix(self.load_meter(state, data)[0])
            owner = {"meter_id": data["meter_id"]}
        elif "account" in data:
            account = address_field(data, "account")
            prefix, owner = keys.account_intervals_prefix(account), {
                "account": format_address(account)}
        else:
            zone_id = text_field(data, "zone_id")
            prefix, owner = keys.zone_intervals_prefix(zone_id), {"zone_id": zone_id}
        start, end, limit = time_range(data)
        items = [energy_json(start_ms, energy)
                 for start_ms, energy in self.keeper.interval_records(state, prefix)
                 if start <= start_ms < end]
        return {**owner, "interval_ms": load_params(state).interval_ms,
                "intervals": items[:limit], "truncated": len(items) > limit}
