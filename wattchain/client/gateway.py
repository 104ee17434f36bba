"""The gateway side of metering: plan the readings a meter still owes the
chain, sign them with the meter's key and relay them in batches.

Resuming: the chain holds a meter's last sequence, time and registers
(``metering/meter``). Interval data (Green Button, the simulator) continues
from those registers with the intervals that start at or after the last
reading; register data (OBIS CSV) continues with the rows after it. A meter
with no reading yet starts with a baseline reading at sequence 1.

Two keys are at work: the meter's own key signs each reading (the chain
checks it against the meter's registered public key), and the gateway's
account key signs the ``submit_readings`` txs and pays their fees.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from wattchain.client.errors import ClientError
from wattchain.client.meter_formats import IntervalValue, MeterReading, interval_readings
from wattchain.client.rpc import RpcClient
from wattchain.client.tx import TxBuilder, broadcast_tx
from wattchain.crypto import PrivateKey
from wattchain.modules.metering.ingest import sign_reading
from wattchain.types import sign_tx


def plan_intervals(intervals: list[IntervalValue], meter: dict[str, Any],
                   base_import_wh: int = 0, base_export_wh: int = 0) -> list[MeterReading]:
    """Readings for the intervals the chain does not hold yet (see the module docstring)."""
    if meter["last_seq"] == 0:
        return interval_readings(intervals, base_import_wh, base_export_wh, 1, baseline=True)
    last_time = meter["last_time_ms"]
    remaining = [i for i in intervals if i.start_ms >= last_time and i.end_ms > last_time]
    return interval_readings(remaining, meter["import_wh"], meter["export_wh"],
                             meter["last_seq"] + 1, baseline=False)


def plan_registers(rows: list[tuple[int, int, int]], meter: dict[str, Any]) -> list[MeterReading]:
    """Readings for the register rows after the chain's last reading."""
    remaining = [row for row in rows if row[0] > meter["last_time_ms"]]
    if remaining and meter["last_seq"] and (remaining[0][1] < meter["import_wh"]
                                            or remaining[0][2] < meter["export_wh"]):
        raise ClientError(f"the file's registers at {remaining[0][0]} ms are below what the "
                          f"chain holds ({meter['import_wh']} / {meter['export_wh']} Wh): "
                          "is it the right meter?")
    first = meter["last_seq"] + 1
    return [MeterReading(first + index, *row) for index, row in enumerate(remaining)]


def meter_state(client: RpcClient, meter_id: str) -> dict[str, Any]:
    """The chain's record of a meter: key, last sequence, time and registers."""
    meter: dict[str, Any] = client.query("metering/meter", meter_id=meter_id)
    return meter


def check_meter_key(key: PrivateKey, key_name: str, meter: dict[str, Any]) -> PrivateKey:
    """``key`` if it is the meter's registered key; ``key_name`` names it in the error."""
    if key.public_key.hex() != meter["public_key"]:
        raise ClientError(f"key {key_name!r} is not the key of meter {meter['meter_id']!r} "
                          f"(the chain has {meter['public_key']}); use --key NAME")
    return key


def batch_outcome(answer: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    """(accepted count, rejections) of a committed submit_readings tx."""
    events = (answer.get("tx_result") or {}).get("events", [])
    accepted = sum(int(e["attributes"]["accepted"]) for e in events if e["kind"] == "readings")
    rejected = [e["attributes"] for e in events if e["kind"] == "reading_rejected"]
    return accepted, rejected


class MeterGateway:
    """Relays meters' readings to the chain from one gateway account.

    ``client`` is an open ``RpcClient``; ``gateway_key`` signs and pays for
    the txs; ``fee`` per tx (None: the chain minimum).
    """

    def __init__(self, client: RpcClient, gateway_key: PrivateKey,
                 fee: int | None = None) -> None:
        self.client, self.gateway_key, self.fee = client, gateway_key, fee
        self.builder = TxBuilder(client)

    def meter(self, meter_id: str) -> dict[str, Any]:
        """The chain's record of a meter: key, last sequence, time and registers."""
        return meter_state(self.client, meter_id)

    def max_batch(self) -> int:
        return int(self.client.query("metering/params")["max_readings_per_tx"])

    def relay(self, meter_id: str, meter_key: PrivateKey, readings: list[MeterReading],
              batch: int, on_batch: Callable[[int], None] | None = None) -> dict[str, Any]:
        """Sign ``readings`` with the meter key and submit them in batches of
        ``batch``, each committed before the next; ``on_batch(count)`` after each.

        Returns a summary (submitted, accepted, rejected, rejections, txs,
        first_seq, last_seq, seconds). A batch the node refuses, or whose tx
        fails, raises ``ClientError``; readings the module rejects one by one
        are counted in the summary.
        """
        summary: dict[str, Any] = {"meter_id": meter_id, "submitted": len(readings),
                                   "accepted": 0, "rejected": 0, "rejections": [], "txs": [],
                                   "first_seq": readings[0].seq if readings else None,
                                   "last_seq": readings[-1].seq if readings else None}
        if not readings:
            return summary
        started = time.perf_counter()
        limit = self.max_batch()
        if not 0 < batch <= limit:
            raise ClientError(f"--batch must be 1..{limit} (the chain's max_readings_per_tx)")
        for offset in range(0, len(readings), batch):
            chunk = readings[offset:offset + batch]
            answer = self.submit_batch(meter_id, meter_key, chunk)
            accepted, rejected = batch_outcome(answer)
            summary["accepted"] += accepted
            summary["rejected"] += len(rejected)
            summary["rejections"] += rejected
            summary["txs"].append({"hash": answer["hash"], "height": answer.get("height")})
            if on_batch is not None:
                on_batch(len(chunk))
        summary["seconds"] = round(time.perf_counter() - started, 3)
        return summary

    def submit_batch(self, meter_id: str, meter_key: PrivateKey,
                     readings: list[MeterReading]) -> dict[str, Any]:
        """One committed ``submit_readings`` tx; the node's answer."""
        chain_id = self.builder.chain_id
        signed = [sign_reading(meter_key, chain_id, meter_id, r.seq, r.time_ms, r.import_wh,
                               r.export_wh) for r in readings]
        tx = self.builder.build(self.gateway_key.address, "metering", "submit_readings",
                                [signed], self.fee)
        outcome = broadcast_tx(self.client, sign_tx(tx, self.gateway_key))
        for check in (outcome.check, outcome.result or {}):
            if check.get("code", 0) != 0:
                raise ClientError(f"batch at seq {readings[0].seq} failed "
                                  f"({check['codespace']} code {check['code']}): "
                                  f"{check['log']}")
        return {**outcome.answer, "hash": outcome.hash}
