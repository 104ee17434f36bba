"""Read-only queries of the metering module (abci_query paths ``metering/...``):
meters, readings and interval energy, tariffs and bills."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wattchain import codec
from wattchain.crypto import format_address
from wattchain.modules.metering import keys
from wattchain.modules.metering.bills import (
    BillingService,
    bill_json,
    tariff_json,
    tariff_versions,
    trade_ids_of,
)
from wattchain.modules.metering.errors import RecordNotFound
from wattchain.modules.metering.keeper import MeteringKeeper
from wattchain.modules.metering.tariffs import band_at, day_type, tariff_in_force
from wattchain.modules.metering.types import Meter
from wattchain.modules.metering.views import energy_json, meter_json, reading_json
from wattchain.vm.errors import InvalidQuery
from wattchain.vm.fields import MAX_INT, query_address, query_int, query_text
from wattchain.vm.params import load_params
from wattchain.vm.state import StateReader

MAX_LIMIT = 10_000


def account_field(data: Mapping[str, Any]) -> bytes:
    return query_address(data, "account", message="this query needs data {\"account\": \"...\"}")


def time_range(data: Mapping[str, Any]) -> tuple[int, int, int]:
    """(from_ms, to_ms, limit) of a query; to_ms is exclusive."""
    start = query_int(data, "from_ms", 0)
    end = query_int(data, "to_ms", MAX_INT)
    limit = query_int(data, "limit", 1000)
    if end < start or not 0 < limit <= MAX_LIMIT:
        raise InvalidQuery(f"need from_ms <= to_ms and limit in 1..{MAX_LIMIT}")
    return start, end, limit


class MeteringQueries:
    def __init__(self, keeper: MeteringKeeper, billing: BillingService) -> None:
        self.keeper = keeper
        self.billing = billing

    def load_meter(self, state: StateReader, data: Mapping[str, Any]) -> tuple[str, Meter]:
        meter_id = query_text(data, "meter_id")
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
            account = account_field(data)
            prefix, owner = keys.account_intervals_prefix(account), {
                "account": format_address(account)}
        else:
            zone_id = query_text(data, "zone_id")
            prefix, owner = keys.zone_intervals_prefix(zone_id), {"zone_id": zone_id}
        start, end, limit = time_range(data)
        items = [energy_json(start_ms, energy)
                 for start_ms, energy in self.keeper.interval_records(state, prefix)
                 if start <= start_ms < end]
        return {**owner, "interval_ms": load_params(state).interval_ms,
                "intervals": items[:limit], "truncated": len(items) > limit}

    # -- tariffs and bills ------------------------------------------------------------

    def tariffs(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        zone_id = query_text(data, "zone_id")
        return {"zone_id": zone_id, "versions": [tariff_json(f, t)
                                                 for f, t in tariff_versions(state, zone_id)]}

    def band(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        """The band in force in zone_id at time_ms."""
        zone_id, time_ms = query_text(data, "zone_id"), query_int(data, "time_ms", 0)
        version = tariff_in_force(tariff_versions(state, zone_id), time_ms)
        if version is None:
            raise RecordNotFound(f"no tariff of zone {zone_id!r} in force at {time_ms}")
        name, import_price, export_price = version[1].bands[band_at(version[1], time_ms)]
        return {"zone_id": zone_id, "time_ms": time_ms, "effective_from_ms": version[0],
                "day_type": day_type(version[1], time_ms), "band": name,
                "import_price": import_price, "export_price": export_price}

    def bill(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        account = account_field(data)
        start, end = query_int(data, "start_ms", 0), query_int(data, "end_ms", 0)
        raw = state.get(keys.bill_key(account, start, end))
        if raw is None:
            raise RecordNotFound("no bill for this account and period")
        return bill_json(account, start, end, codec.decode(raw))

    def bills(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        account = account_field(data)
        prefix = keys.bills_prefix(account)
        items = []
        for key, raw in state.iterate(prefix):
            start, end = keys.read_be64(key[20 + len(keys.BILL_PREFIX):][:8]), \
                keys.read_be64(key[-8:])
            items.append(bill_json(account, start, end, codec.decode(raw)))
        return {"account": format_address(account), "bills": items}

    def verify_bill(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        """Recompute a stored bill from on-chain data (its own trades) and compare."""
        stored = self.bill(state, data)
        account = account_field(data)
        start, end = stored["start_ms"], stored["end_ms"]
        trades = self.billing.settled_trades(state, account, start, end, stored["p2p_trade_ids"])
        zone_id, bill = self.billing.compute(state, account, start, end, trades)
        fresh = bill_json(account, start, end, [zone_id, stored["height"], bill,
                                                trade_ids_of(trades), stored["p2p_pending"]])
        return {"matches": fresh == stored, "stored_total": stored["total"],
                "recomputed_total": fresh["total"]}
