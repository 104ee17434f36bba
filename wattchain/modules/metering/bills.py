"""Handlers and queries for tariffs and bills.

* ``set_tariff [zone_id, effective_from_ms, utc_offset_minutes, weekend_days,
  holidays, bands, schedule, standing_charge]`` (dso): a new version, effective
  strictly in the future; earlier versions stay (history).
* ``issue_bill [account, start_ms, end_ms]`` (the account, a dso, a
  meter_operator or an admin): bill ended intervals of the account's grid
  meters, priced by the tariffs of their zone, with the account's settled
  peer-to-peer trades of the period (``billing``); stored once per period as
  ``[zone_id, height, bill, p2p trade ids, p2p pending]`` (bills stored before
  trading joined have the first three only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from wattchain import codec
from wattchain.crypto import format_address
from wattchain.modules.metering import keys
from wattchain.modules.metering.billing import compute_bill
from wattchain.modules.metering.errors import (
    BillExists,
    InvalidPeriod,
    MissingRole,
    NoTariff,
    RecordNotFound,
    TariffNotInFuture,
)
from wattchain.modules.metering.keeper import MeteringKeeper
from wattchain.modules.metering.queries import address_field, int_field, text_field
from wattchain.modules.metering.tariffs import (
    DAY_MS,
    Tariff,
    band_at,
    check_tariff,
    day_type,
    tariff_in_force,
)
from wattchain.modules.metering.types import RoleChecker, SettledTrade, SettledTrades
from wattchain.modules.registration.validation import check_int, check_zone_id
from wattchain.vm.interface import Context, arg_address, expect_args
from wattchain.vm.params import load_params
from wattchain.vm.state import StateReader

MAX_BILL_MS = 366 * DAY_MS
BILLERS = ("admin", "dso", "meter_operator")


def tariff_versions(state: StateReader, zone_id: str) -> list[tuple[int, Tariff]]:
    prefix = keys.tariffs_prefix(zone_id)
    return [(keys.read_be64(key[len(prefix):]), Tariff.from_list(codec.decode(raw)))
            for key, raw in state.iterate(prefix)]


def tariff_json(effective_from: int, tariff: Tariff) -> dict[str, Any]:
    return {"effective_from_ms": effective_from, "setter": format_address(tariff.setter),
            "utc_offset_minutes": tariff.utc_offset_minutes,
            "weekend_days": tariff.weekend_days, "holidays": tariff.holidays,
            "bands": tariff.bands, "schedule": tariff.schedule,
            "standing_charge": tariff.standing_charge}


def tariff_from_json(data: Mapping[str, Any]) -> tuple[int, Tariff]:
    return int(data["effective_from_ms"]), Tariff(
        bytes.fromhex(str(data["setter"])[2:]), data["utc_offset_minutes"],
        list(data["weekend_days"]), list(data["holidays"]),
        [list(b) for b in data["bands"]], [list(d) for d in data["schedule"]],
        data["standing_charge"])


def bill_json(account: bytes, start: int, end: int, record: list[Any]) -> dict[str, Any]:
    zone_id, height, (lines, total, import_wh, export_wh, estimated), *p2p = record
    trade_ids, pending = p2p if p2p else ([], 0)
    return {"account": format_address(account), "zone_id": zone_id, "start_ms": start,
            "end_ms": end, "height": height, "total": total, "import_wh": import_wh,
            "export_wh": export_wh, "estimated_intervals": estimated,
            "lines": [dict(zip(("kind", "tariff_from_ms", "band", "quantity", "unit_price",
                                "amount"), line, strict=True)) for line in lines],
            "p2p_trade_ids": list(trade_ids), "p2p_pending": pending}


def trade_ids_of(trades: Sequence[SettledTrade]) -> list[int]:
    return sorted({trade.trade_id for trade in trades})


class BillingService:
    def __init__(self, keeper: MeteringKeeper, roles: RoleChecker) -> None:
        self.keeper = keeper
        self.roles = roles
        self.trades: SettledTrades | None = None  # none until trading is attached

    def settled_trades(self, state: StateReader, account: bytes, start: int, end: int,
                       trade_ids: list[int] | None = None) -> list[SettledTrade]:
        """The account's settled trades of the period (only ``trade_ids``, if given)."""
        if self.trades is None:
            return []
        found = self.trades.settled_for(state, account, start, end)
        return [t for t in found if trade_ids is None or t.trade_id in trade_ids]

    def pending_trades(self, state: StateReader, account: bytes, start: int, end: int) -> int:
        return 0 if self.trades is None else self.trades.pending_for(state, account, start, end)

    def billing_zone(self, state: StateReader, account: bytes) -> str | None:
        for _, meter in self.keeper.iterate_meters(state):
            if meter.account == account and not meter.submeter:
                return meter.zone_id
        return None

    def compute(self, state: StateReader, account: bytes, start: int, end: int,
                trades: Sequence[SettledTrade]) -> tuple[str, list[Any]]:
        zone_id = self.billing_zone(state, account)
        if zone_id is None:
            raise NoTariff("the account has no grid meter to bill")
        versions = tariff_versions(state, zone_id)
        if not versions or versions[0][0] > start:
            raise NoTariff(f"no tariff of zone {zone_id!r} is in force at the period start")
        prefix = keys.account_intervals_prefix(account)
        energy = [(s, e) for s, e in self.keeper.interval_records(state, prefix)
                  if start <= s < end]
        return zone_id, compute_bill(start, end, energy, versions, trades)

    # -- handlers ----------------------------------------------------------------

    def set_tariff(self, ctx: Context, args: list[Any]) -> None:
        (zone_raw, from_raw, offset, weekend, holidays, bands, schedule,
         standing) = expect_args(args, 8, "zone, effective from ms, UTC offset minutes, "
                                 "weekend days, holidays, bands, schedule, standing charge")
        if not self.roles.get_account(ctx.state, ctx.sender).has_role("dso"):
            raise MissingRole("setting a tariff needs the 'dso' role")
        zone_id = check_zone_id(zone_raw)
        effective_from = check_int(from_raw, "effective from (ms)", 0, (1 << 63) - 1)
        if effective_from <= ctx.time_ms:
            raise TariffNotInFuture(f"a tariff takes effect in the future; block time is "
                                    f"{ctx.time_ms}")
        tariff = check_tariff(ctx.sender, offset, weekend, holidays, bands, schedule, standing)
        ctx.state.set(keys.tariff_key(zone_id, effective_from), codec.encode(tariff.to_list()))
        ctx.emit("tariff_set", {"zone_id": zone_id, "effective_from_ms": effective_from,
                                "setter": ctx.sender, "bands": len(tariff.bands)})

    def issue_bill(self, ctx: Context, args: list[Any]) -> None:
        account_raw, start_raw, end_raw = expect_args(args, 3, "account, start ms, end ms")
        account = arg_address(account_raw, "account")
        holder = self.roles.get_account(ctx.state, ctx.sender)
        if ctx.sender != account and not any(holder.has_role(r) for r in BILLERS):
            raise MissingRole("a bill is issued by its account, a dso, a meter operator or "
                              "an admin")
        start, end = self.check_period(ctx.state, start_raw, end_raw)
        key = keys.bill_key(account, start, end)
        if ctx.state.get(key) is not None:
            raise BillExists("this period is already billed")
        trades = self.settled_trades(ctx.state, account, start, end)
        zone_id, bill = self.compute(ctx.state, account, start, end, trades)
        pending = self.pending_trades(ctx.state, account, start, end)
        ctx.state.set(key, codec.encode([zone_id, ctx.height, bill, trade_ids_of(trades),
                                         pending]))
        ctx.emit("bill_issued", {"account": account, "start_ms": start, "end_ms": end,
                                 "total": bill[1]})

    def check_period(self, state: StateReader, start_raw: Any, end_raw: Any) -> tuple[int, int]:
        interval_ms = load_params(state).interval_ms
        start = check_int(start_raw, "start (ms)", 0, (1 << 63) - 1)
        end = check_int(end_raw, "end (ms)", 0, (1 << 63) - 1)
        if start % interval_ms or end % interval_ms or not start < end <= start + MAX_BILL_MS:
            raise InvalidPeriod(f"a period is 1 interval to 366 days, aligned to "
                                f"{interval_ms} ms intervals")
        if end > self.keeper.closed_until(state):
            raise InvalidPeriod("the period has not ended yet")
        return start, end

    # -- queries -----------------------------------------------------------------

    def tariffs(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        zone_id = text_field(data, "zone_id")
        return {"zone_id": zone_id, "versions": [tariff_json(f, t)
                                                 for f, t in tariff_versions(state, zone_id)]}

    def band(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        """The band in force in zone_id at time_ms."""
        zone_id, time_ms = text_field(data, "zone_id"), int_field(data, "time_ms", 0)
        version = tariff_in_force(tariff_versions(state, zone_id), time_ms)
        if version is None:
            raise RecordNotFound(f"no tariff of zone {zone_id!r} in force at {time_ms}")
        name, import_price, export_price = version[1].bands[band_at(version[1], time_ms)]
        return {"zone_id": zone_id, "time_ms": time_ms, "effective_from_ms": version[0],
                "day_type": day_type(version[1], time_ms), "band": name,
                "import_price": import_price, "export_price": export_price}

    def bill(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        account = address_field(data, "account")
        start, end = int_field(data, "start_ms", 0), int_field(data, "end_ms", 0)
        raw = state.get(keys.bill_key(account, start, end))
        if raw is None:
            raise RecordNotFound("no bill for this account and period")
        return bill_json(account, start, end, codec.decode(raw))

    def bills(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        account = address_field(data, "account")
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
        account = address_field(data, "account")
        start, end = stored["start_ms"], stored["end_ms"]
        trades = self.settled_trades(state, account, start, end, stored["p2p_trade_ids"])
        zone_id, bill = self.compute(state, account, start, end, trades)
        fresh = bill_json(account, start, end, [zone_id, stored["height"], bill,
                                                trade_ids_of(trades), stored["p2p_pending"]])
        return {"matches": fresh == stored, "stored_total": stored["total"],
                "recomputed_total": fresh["total"]}
