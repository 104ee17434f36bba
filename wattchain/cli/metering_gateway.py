"""The gateway side of metering: plan the readings a meter still owes the
chain, sign them with the meter's key and relay them in batches.

Resuming: the chain holds a meter's last sequence, time and registers
(``metering/meter``). Interval data (Green Button, the simulator) continues
from those registers with the intervals that start at or after the last
reading; register data (OBIS CSV) continues with the rows after it. A meter
with no reading yet starts with a baseline reading at sequence 1.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from wattchain.cli.client import RpcClient
from wattchain.cli.common import CliError, error_console, node_url
from wattchain.cli.meter_formats import IntervalValue, MeterReading, interval_readings
from wattchain.cli.tx_cmd import build_tx, load_signer
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
        raise CliError(f"the file's registers at {remaining[0][0]} ms are below what the "
                       f"chain holds ({meter['import_wh']} / {meter['export_wh']} Wh): "
                       "is it the right meter?")
    first = meter["last_seq"] + 1
    return [MeterReading(first + index, *row) for index, row in enumerate(remaining)]


def meter_state(client: RpcClient, meter_id: str) -> dict[str, Any]:
    meter: dict[str, Any] = client.query("metering/meter", meter_id=meter_id)
    return meter


def load_meter_key(home: Path, key_name: str, meter: dict[str, Any]) -> PrivateKey:
    key = load_signer(home, key_name)
    if key.public_key.hex() != meter["public_key"]:
        raise CliError(f"key {key_name!r} is not the key of meter {meter['meter_id']!r} "
                       f"(the chain has {meter['public_key']}); use --key NAME")
    return key


def batch_outcome(answer: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    """(accepted count, rejections) of a committed submit_readings tx."""
    events = (answer.get("tx_result") or {}).get("events", [])
    accepted = sum(int(e["attributes"]["accepted"]) for e in events if e["kind"] == "readings")
    rejected = [e["attributes"] for e in events if e["kind"] == "reading_rejected"]
    return accepted, rejected


def relay(home: Path, node: str | None, gateway: str, meter_id: str, meter_key: PrivateKey,
          readings: list[MeterReading], batch: int, fee: int | None,
          show_progress: bool) -> dict[str, Any]:
    """Sign ``readings`` with the meter key and submit them in batches from ``gateway``,
    each batch committed before the next; a summary with every rejection."""
    signer = load_signer(home, gateway)
    summary: dict[str, Any] = {"meter_id": meter_id, "submitted": len(readings),
                               "accepted": 0, "rejected": 0, "rejections": [], "txs": [],
                               "first_seq": readings[0].seq if readings else None,
                               "last_seq": readings[-1].seq if readings else None}
    if not readings:
        return summary
    started = time.perf_counter()
    with RpcClient(node_url(home, node)) as client, Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            console=error_console, transient=True, disable=not show_progress) as progress:
        params = client.query("metering/params")
        if not 0 < batch <= params["max_readings_per_tx"]:
            raise CliError(f"--batch must be 1..{params['max_readings_per_tx']} (the chain's "
                           "max_readings_per_tx)")
        chain_id = client.call("status")["node_info"]["network"]
        task = progress.add_task(f"relaying {meter_id}", total=len(readings))
        for offset in range(0, len(readings), batch):
            signed = [sign_reading(meter_key, chain_id, meter_id, r.seq, r.time_ms,
                                   r.import_wh, r.export_wh)
                      for r in readings[offset:offset + batch]]
            tx, _ = build_tx(client, signer, "metering", "submit_readings", [signed], fee)
            stx = sign_tx(tx, signer)
            answer = client.broadcast(stx.raw, "commit")
            check, result = answer["check_tx"], answer.get("tx_result") or {}
            for outcome in (check, result):
                if outcome.get("code", 0) != 0:
                    raise CliError(f"batch at seq {readings[offset].seq} failed "
                                   f"({outcome['codespace']} code {outcome['code']}): "
                                   f"{outcome['log']}")
            accepted, rejected = batch_outcome(answer)
            summary["accepted"] += accepted
            summary["rejected"] += len(rejected)
            summary["rejections"] += rejected
            summary["txs"].append({"hash": stx.tx_id.hex(), "height": answer.get("height")})
            progress.advance(task, len(signed))
    summary["seconds"] = round(time.perf_counter() - started, 3)
    return summary
