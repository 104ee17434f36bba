"""`wattchain meter ...`: meters, their readings, and the gateway that relays them.

Meter keys live in the keyring like any key (`wattchain keys add meter1`);
by default a meter's key is the key named like the meter (`--key` otherwise).
Transactions go through ``context.send``; reads through ``metering/<query>``;
relaying through the client library's ``MeterGateway``. Tariffs, bills and
reports are in ``billing_cmd``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from wattchain.cli.command_table import Custom, Query, Send, add
from wattchain.cli.common import CliError, emit, kv_table, progress_bar, table
from wattchain.cli.context import connect, load_signer, open_keyring
from wattchain.cli.params import RELAY, SENDER, Inputs, Param, address_field, address_of, option
from wattchain.cli.registration_views import format_time, parse_time_ms
from wattchain.client import (
    PROFILES,
    IntervalValue,
    MeterGateway,
    MeterReading,
    SimulatedMeter,
    check_meter_key,
    load_green_button,
    load_obis_csv,
    meter_state,
    plan_intervals,
    plan_registers,
)

app = typer.Typer(help="Meters: register, commission, keys, readings, gateway, simulator.",
                  no_args_is_help=True)

METER_ID = Param("meter_id", Annotated[str, typer.Argument(help="Meter id, e.g. MTR-1.")])
KEY = option("key", str | None, "Keyring key of the meter (default: the key named like the "
             "meter).", None)
PUBLIC_KEY = option("public_key", str | None, "The meter's compressed public key, hex "
                    "(instead of --key).", None)
METER = option("meter_id", str, "Meter id.", flag="--meter")
GATEWAY = option("sender", str, "Gateway key that pays the fees.", flag="--from")
BATCH = option("batch", int, "Readings per tx.", 100, flag="--batch")


def public_key_of(inputs: Inputs) -> bytes:
    key, public_key = inputs["key"], inputs["public_key"]
    if key is not None and public_key is not None:
        raise CliError("give --key or --public-key, not both")
    if public_key is not None:
        try:
            return bytes.fromhex(public_key.removeprefix("0x"))
        except ValueError:
            raise CliError("--public-key must be hex") from None
    return open_keyring(inputs["home"]).info(key or inputs["meter_id"]).public_key


def rotate_args(inputs: Inputs) -> list[Any]:
    if inputs["key"] is None and inputs["public_key"] is None:
        raise CliError("give the new key: --key NAME or --public-key HEX")
    return [inputs["meter_id"], public_key_of(inputs)]


def register_args(inputs: Inputs) -> list[Any]:
    return [inputs["meter_id"], inputs["meter_type"], public_key_of(inputs),
            address_of(inputs["account"], inputs), inputs["zone"], inputs["asset"],
            inputs["max_power_w"], inputs["submeter"]]


def show_view(value: Any, inputs: Inputs) -> Any:
    rows = dict(value)
    if value["last_time_ms"]:
        rows["last_time_ms"] = f"{value['last_time_ms']} ({format_time(value['last_time_ms'])})"
    return kv_table(f"meter {inputs['meter_id']}", rows)


def window_time(name: str) -> Any:
    return lambda value, inputs: parse_time_ms(value, name)


def metering(name: str, method: str, doc: str, params: tuple[Param, ...],
             **row: Any) -> Send:
    return Send(name, "metering", method, doc, params, **row)


add(app, [
    metering("register", "register_meter", "Register a meter with its own key (meter_operator "
             "role); commission it next.", (
                 METER_ID, SENDER, option("account", str, "Customer: key name or 0x address."),
                 option("zone", str, "Zone id."),
                 option("max_power_w", int, "Fuse or capacity limit in W."),
                 option("meter_type", str, "consumption, net, production, storage or "
                        "ev_charger.", "consumption", flag="--type"),
                 option("asset", int, "Asset id measured (production, storage).", 0),
                 option("submeter", bool, "Behind another meter of the account.", False,
                        flag="--submeter"), KEY, PUBLIC_KEY), args=register_args),
    metering("commission", "commission", "Start accepting a registered meter's readings (its "
             "operator).", (METER_ID, SENDER)),
    metering("decommission", "decommission", "Stop a meter for good (its operator).",
             (METER_ID, SENDER, option("reason", str, "Why; recorded in the event."))),
    metering("rotate-key", "rotate_key", "Give a meter a new key (its operator); sequence and "
             "registers continue.", (METER_ID, SENDER, KEY, PUBLIC_KEY), args=rotate_args),
    Query("show", "metering/meter", "A meter: binding, status, last reading, registers and "
          "open gaps.", (METER_ID,), show_view),
    Query("list", "metering/meters", "Meters, filtered by account, zone, operator and type.", (
        option("account", str | None, "Key name or 0x address.", None, convert=address_field),
        option("zone", str | None, "Zone id.", None, key="zone_id"),
        option("operator", str | None, "Key name or 0x address.", None, convert=address_field),
        option("meter_type", str | None, "Meter type.", None, flag="--type", key="type")),
        lambda value, inputs: table(
            "meters", ["meter", "type", "status", "account", "zone", "last seq", "import Wh",
                       "export Wh"],
            [[m["meter_id"], m["type"], m["status"], m["account"][:12], m["zone_id"],
              m["last_seq"], m["import_wh"], m["export_wh"]] for m in value["meters"]])),
    Query("readings", "metering/readings", "The readings the chain holds for a meter, by "
          "sequence.", (
              METER_ID,
              option("start", str | None, "Date, ISO time or ms.", None, flag="--from",
                     key="from_ms", convert=window_time("from")),
              option("end", str | None, "Exclusive; date, ISO time or ms.", None, flag="--to",
                     key="to_ms", convert=window_time("to")),
              option("limit", int, "At most this many (1..10000).", 1000)),
          lambda value, inputs: table(
              f"readings of {inputs['meter_id']}", ["seq", "time", "import Wh", "export Wh"],
              [[r["seq"], format_time(r["time_ms"]), r["import_wh"], r["export_wh"]]
               for r in value["readings"]])),
])


def relay(home: Path, node: str | None, sender: str, meter_id: str, key: str | None,
          plan: Any, batch: int, fee: int | None, output: str) -> None:
    """Plan with the chain's meter record, relay, print the summary; exit 1 if any
    reading was rejected. ``plan(meter)`` gives the readings still owed."""
    with connect(home, node) as client:
        meter = meter_state(client, meter_id)
        meter_key = check_meter_key(load_signer(home, key or meter_id), key or meter_id, meter)
        readings: list[MeterReading] = plan(meter)
        gateway = MeterGateway(client, load_signer(home, sender), fee)
        with progress_bar(output == "text") as progress:
            task = progress.add_task(f"relaying {meter_id}", total=len(readings))
            summary = gateway.relay(meter_id, meter_key, readings, batch,
                                    lambda count: progress.advance(task, count))
    rows = {name: summary[name] for name in ("meter_id", "submitted", "accepted", "rejected",
                                             "first_seq", "last_seq")}
    if summary.get("seconds"):
        rows["seconds"] = summary["seconds"]
    for rejection in summary["rejections"][:10]:
        rows[f"rejected seq {rejection['seq']}"] = rejection["reason"]
    emit(output, summary, kv_table("gateway", rows))
    if summary["rejected"]:
        raise typer.Exit(1)


def gateway(meter_id: str, sender: str, green_button: Path | None, obis_csv: Path | None,
            batch: int, key: str | None, base_import_wh: int, base_export_wh: int, home: Path,
            node: str | None, fee: int | None, output: str) -> None:
    """Relay a meter data file: sign each reading with the meter key and submit in
    batches, resuming after the last sequence the chain holds. Exit 1 if any
    reading was rejected."""
    if (green_button is None) == (obis_csv is None):
        raise CliError("give exactly one of --green-button FILE or --obis-csv FILE")

    def plan(meter: dict[str, Any]) -> list[MeterReading]:
        if green_button is not None:
            return plan_intervals(load_green_button(green_button), meter, base_import_wh,
                                  base_export_wh)
        return plan_registers(load_obis_csv(obis_csv or Path()), meter)

    relay(home, node, sender, meter_id, key, plan, batch, fee, output)


def simulate(meter_id: str, sender: str, profile: str, intervals: int, seed: int, size_w: int,
             end: str | None, utc_offset_minutes: int, batch: int, key: str | None,
             home: Path, node: str | None, fee: int | None, output: str) -> None:
    """Relay a simulated meter's readings for the chain's intervals ending at --end,
    resuming after the last sequence the chain holds."""
    if intervals <= 0:
        raise CliError("--intervals must be positive")
    simulated = SimulatedMeter(profile, seed, size_w, utc_offset_minutes)
    with connect(home, node) as client:
        interval_ms = int(client.query("chain/params")["interval_ms"])
        latest = client.latest_time_ms()
    finish = parse_time_ms(end, "end") if end is not None else latest
    finish -= finish % interval_ms
    values = [IntervalValue(*item) for item in simulated.intervals(
        finish - intervals * interval_ms, interval_ms, intervals)]
    relay(home, node, sender, meter_id, key, lambda meter: plan_intervals(values, meter),
          batch, fee, output)


add(app, [
    Custom("gateway", gateway, (
        METER, GATEWAY, option("green_button", Path | None, "Green Button (ESPI) XML.", None),
        option("obis_csv", Path | None, "DLMS/COSEM OBIS-coded CSV.", None), BATCH, KEY,
        option("base_import_wh", int, "Import register before the first interval (a new "
               "meter only).", 0),
        option("base_export_wh", int, "Export register likewise.", 0)), RELAY),
    Custom("simulate", simulate, (
        METER, GATEWAY, option("profile", str, ", ".join(PROFILES)),
        option("intervals", int, "Number of intervals."),
        option("seed", int, "Seed: the same seed, the same profile.", 1),
        option("size_w", int, "Mean load, PV peak or charger power in W (default per "
               "profile).", 0),
        option("end", str | None, "End of the last interval (date, ISO time or ms); default: "
               "the latest block time, floored to an interval.", None),
        option("utc_offset_minutes", int, "Local clock of the profile.", 0), BATCH, KEY),
        RELAY),
])
