"""Tariffs and bills as both the handlers and the queries read them: stored
tariff versions, their JSON, a bill's JSON, and ``BillingService``, which
computes an account's bill (``billing``) from on-chain data.

The tx methods (in ``handlers``):

* ``set_tariff [zone_id, effective_from_ms, utc_offset_minutes, weekend_days,
  holidays, bands, schedule, standing_charge]`` (the DSO operating the zone): a
  new version, effective strictly in the future; earlier versions stay (history).
* ``issue_bill [account, start_ms, end_ms]`` (the account, the DSO operating
  the zone of its grid meter, the meter operator of that meter, or an admin):
  bill ended intervals of the account's grid meters, priced by the tariffs of
  their zone, with the account's settled peer-to-peer trades of the period
  (``billing``); stored once per period as ``[zone_id, height, bill, p2p trade
  ids, p2p pending]`` (bills stored before trading joined have the first three
  only).

The queries ``tariffs``, ``band``, ``bill``, ``bills`` and ``verify_bill``
are in ``queries``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from wattchain import codec
from wattchain.crypto import format_address
from wattchain.modules.metering import keys
from wattchain.modules.metering.billing import compute_bill
from wattchain.modules.metering.errors import NoTariff
from wattchain.modules.metering.expected import SettledTrade, SettledTrades
from wattchain.modules.metering.keeper import MeteringKeeper
from wattchain.modules.metering.tariffs import Tariff
from wattchain.modules.metering.types import Meter
from wattchain.vm.state import StateReader


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
    def __init__(self, keeper: MeteringKeeper) -> None:
        self.keeper = keeper
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

    def billing_meter(self, state: StateReader, account: bytes) -> Meter:
        """The account's grid meter (its first that is not a submeter, by id): its
        zone prices the bill. NoTariff when it has none."""
        for _, meter in self.keeper.iterate_meters(state):
            if meter.account == account and not meter.submeter:
                return meter
        raise NoTariff("the account has no grid meter to bill")

    def compute(self, state: StateReader, account: bytes, start: int, end: int,
                trades: Sequence[SettledTrade]) -> tuple[str, list[Any]]:
        zone_id = self.billing_meter(state, account).zone_id
        versions = tariff_versions(state, zone_id)
        if not versions or versions[0][0] > start:
            raise NoTariff(f"no tariff of zone {zone_id!r} is in force at the period start")
        prefix = keys.account_intervals_prefix(account)
        energy = [(s, e) for s, e in self.keeper.interval_records(state, prefix)
                  if start <= s < end]
        return zone_id, compute_bill(start, end, energy, versions, trades)
