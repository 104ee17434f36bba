"""`wattchain meter ...`: meters, their readings, and the gateway that relays them.

Meter keys live in the keyring like any key (`wattchain keys add meter1`);
by default a meter's key is the key named like the meter (`--key` otherwise).
Transactions go through ``tx_cmd.send``; reads through ``metering/<query>``.
Tariffs, bills and reports are in ``billing_cmd``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from wattchain.cli.client import RpcClient
from wattchain.cli.common import (
    DEFAULT_HOME,
    CliError,
    HomeOption,
    NodeOption,
    OutputOption,
    check_output,
    emit,
    handle_errors,
    kv_table,
    node_url,
)
from wattchain.cli.keys_cmd import open_keyring
from wattchain.cli.meter_formats import IntervalValue, load_green_button, load_obis_csv
from wattchain.cli.metering_gateway import (
    load_meter_key,
    meter_state,
    plan_intervals,
    plan_registers,
    relay,
)
from wattchain.cli.query_cmd import address_text
from wattchain.cli.registration_views import format_time, parse_time_ms, table
from wattchain.cli.tx_cmd import FeeOption, FromOption, WaitOption, resolve, send
from wattchain.sim.meters import PROFILES, SimulatedMeter

app = typer.Typer(help="Meters: register, commission, keys, readings, gateway, simulator.",
                  no_args_is_help=True)

MeterId = Annotated[str, typer.Argument(help="Meter id, e.g. MTR-1.")]
MeterOption = Annotated[str, typer.Option("--meter", help="Meter id.")]
KeyOption = Annotated[str | None, typer.Option(
    "--key", help="Keyring key of the meter (default: the key named like the meter).")]
PublicKeyOption = Annotated[str | None, typer.Option(
    "--public-key", help="The meter's compressed public key, hex (instead of --key).")]
BatchOption = Annotated[int, typer.Option("--batch", help="Readings per tx.")]
GatewayFrom = Annotated[str, typer.Option("--from", help="Gateway key that pays the fees.")]


def fetch(home: Path, node: str | None, path: str, **data: Any) -> Any:
    with RpcClient(node_url(home, node)) as client:
        return client.query("metering/" + path, **data)


def public_key_of(home: Path, key: str | None, public_key: str | None, meter_id: str) -> bytes:
    if key is not None and public_key is not None:
        raise CliError("give --key or --public-key, not both")
    if public_key is not None:
        try:
            return bytes.fromhex(public_key.removeprefix("0x"))
        except ValueError:
            raise CliError("--public-key must be hex") from None
    return open_keyring(home).info(key or meter_id).public_key


@app.command("register")
@handle_errors
def register(
    meter_id: MeterId, sender: FromOption,
    account: Annotated[str, typer.Option(help="Customer: key name or 0x address.")],
    zone: Annotated[str, typer.Option(help="Zone id.")],
    max_power_w: Annotated[int, typer.Option(help="Fuse or capacity limit in W.")],
    meter_type: Annotated[str, typer.Option("--type", help="consumption, net, production, "
                                            "storage or ev_charger.")] = "consumption",
    asset: Annotated[int, typer.Option(help="Asset id measured (production, storage).")] = 0,
    submeter: Annotated[bool, typer.Option("--submeter", help="Behind another meter of "
                                           "the account.")] = False,
    key: KeyOption = None, public_key: PublicKeyOption = None,
    home: HomeOption = DEFAULT_HOME, node: NodeOption = None, fee: FeeOption = None,
    wait: WaitOption = True, output: OutputOption = "text",
) -> None:
    """Register a meter with its own key (meter_operator role); commission it next."""
    args = [meter_id, meter_type, public_key_of(home, key, public_key, meter_id),
            resolve(home, account), zone, asset, max_power_w, submeter]
    send(home, node, sender, "metering", "register_meter", args, fee, wait, output)


@app.command("commission")
@handle_errors
def commission(meter_id: MeterId, sender: FromOption, home: HomeOption = DEFAULT_HOME,
               node: NodeOption = None, fee: FeeOption = None, wait: WaitOption = True,
               output: OutputOption = "text") -> None:
    """Start accepting a registered meter's readings (its operator)."""
    send(home, node, sender, "metering", "commission", [meter_id], fee, wait, output)


@app.command("decommission")
@handle_errors
def decommission(meter_id: MeterId, sender: FromOption,
                 reason: Annotated[str, typer.Option(help="Why; recorded in the event.")],
                 home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
                 fee: FeeOption = None, wait: WaitOption = True,
                 output: OutputOption = "text") -> None:
    """Stop a meter for good (its operator)."""
    send(home, node, sender, "metering", "decommission", [meter_id, reason], fee, wait, output)


@app.command("rotate-key")
@handle_errors
def rotate_key(meter_id: MeterId, sender: FromOption, key: KeyOption = None,
               public_key: PublicKeyOption = None, home: HomeOption = DEFAULT_HOME,
               node: NodeOption = None, fee: FeeOption = None, wait: WaitOption = True,
               output: OutputOption = "text") -> None:
    """Give a meter a new key (its operator); sequence and registers continue."""
    if key is None and public_key is None:
        raise CliError("give the new key: --key NAME or --public-key HEX")
    send(home, node, sender, "metering", "rotate_key",
         [meter_id, public_key_of(home, key, public_key, meter_id)], fee, wait, output)


@app.command("show")
@handle_errors
def show(meter_id: MeterId, home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
         output: OutputOption = "text") -> None:
    """A meter: binding, status, last reading, registers and open gaps."""
    check_output(output)
    value = fetch(home, node, "meter", meter_id=meter_id)
    rows = dict(value)
    if value["last_time_ms"]:
        rows["last_time_ms"] = f"{value['last_time_ms']} ({format_time(value['last_time_ms'])})"
    emit(output, value, kv_table(f"meter {meter_id}", rows))


@app.command("list")
@handle_errors
def list_meters(
    account: Annotated[str | None, typer.Option(help="Key name or 0x address.")] = None,
    zone: Annotated[str | None, typer.Option(help="Zone id.")] = None,
    operator: Annotated[str | None, typer.Option(help="Key name or 0x address.")] = None,
    meter_type: Annotated[str | None, typer.Option("--type", help="Meter type.")] = None,
    home: HomeOption = DEFAULT_HOME, node: NodeOption = None, output: OutputOption = "text",
) -> None:
    """Meters, filtered by account, zone, operator and type."""
    check_output(output)
    filters: dict[str, Any] = {}
    for name, value in (("account", account), ("operator", operator)):
        if value is not None:
            filters[name] = address_text(home, value)
    for name, value in (("zone_id", zone), ("type", meter_type)):
        if value is not None:
            filters[name] = value
    value = fetch(home, node, "meters", **filters)
    emit(output, value, table("meters", ["meter", "type", "status", "account", "zone",
                                         "last seq", "import Wh", "export Wh"],
                              [[m["meter_id"], m["type"], m["status"], m["account"][:12],
                                m["zone_id"], m["last_seq"], m["import_wh"], m["export_wh"]]
                               for m in value["meters"]]))


@app.command("readings")
@handle_errors
def readings(
    meter_id: MeterId,
    start: Annotated[str | None, typer.Option("--from", help="Date, ISO time or ms.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Exclusive; date, ISO time or ms.")
                   ] = None,
    limit: Annotated[int, typer.Option(help="At most this many (1..10000).")] = 1000,
    home: HomeOption = DEFAULT_HOME, node: NodeOption = None, output: OutputOption = "text",
) -> None:
    """The readings the chain holds for a meter, by sequence."""
    check_output(output)
    window: dict[str, Any] = {"limit": limit}
    if start is not None:
        window["from_ms"] = parse_time_ms(start, "from")
    if end is not None:
        window["to_ms"] = parse_time_ms(end, "to")
    value = fetch(home, node, "readings", meter_id=meter_id, **window)
    emit(output, value, table(f"readings of {meter_id}", ["seq", "time", "import Wh",
                                                          "export Wh"],
                              [[r["seq"], format_time(r["time_ms"]), r["import_wh"],
                                r["export_wh"]] for r in value["readings"]]))


def report_relay(summary: dict[str, Any], output: str) -> None:
    rows = {name: summary[name] for name in ("meter_id", "submitted", "accepted", "rejected",
                                             "first_seq", "last_seq")}
    if summary.get("seconds"):
        rows["seconds"] = summary["seconds"]
    for rejection in summary["rejections"][:10]:
        rows[f"rejected seq {rejection['seq']}"] = rejection["reason"]
    emit(output, summary, kv_table("gateway", rows))
    if summary["rejected"]:
        raise typer.Exit(1)


@app.command("gateway")
@handle_errors
def gateway(
    meter_id: MeterOption, sender: GatewayFrom,
    green_button: Annotated[Path | None, typer.Option(help="Green Button (ESPI) XML.")] = None,
    obis_csv: Annotated[Path | None, typer.Option(help="DLMS/COSEM OBIS-coded CSV.")] = None,
    batch: BatchOption = 100, key: KeyOption = None,
    base_import_wh: Annotated[int, typer.Option(help="Import register before the first "
                                                "interval (a new meter only).")] = 0,
    base_export_wh: Annotated[int, typer.Option(help="Export register likewise.")] = 0,
    home: HomeOption = DEFAULT_HOME, node: NodeOption = None, fee: FeeOption = None,
    output: OutputOption = "text",
) -> None:
    """Relay a meter data file: sign each reading with the meter key and submit in
    batches, resuming after the last sequence the chain holds. Exit 1 if any
    reading was rejected."""
    check_output(output)
    if (green_button is None) == (obis_csv is None):
        raise CliError("give exactly one of --green-button FILE or --obis-csv FILE")
    with RpcClient(node_url(home, node)) as client:
        meter = meter_state(client, meter_id)
    meter_key = load_meter_key(home, key or meter_id, meter)
    if green_button is not None:
        plan = plan_intervals(load_green_button(green_button), meter, base_import_wh,
                              base_export_wh)
    else:
        plan = plan_registers(load_obis_csv(obis_csv or Path()), meter)
    report_relay(relay(home, node, sender, meter_id, meter_key, plan, batch, fee,
                       output == "text"), output)


@app.command("simulate")
@handle_errors
def simulate(
    meter_id: MeterOption, sender: GatewayFrom,
    profile: Annotated[str, typer.Option(help=", ".join(PROFILES))],
    intervals: Annotated[int, typer.Option(help="Number of intervals.")],
    seed: Annotated[int, typer.Option(help="Seed: the same seed, the same profile.")] = 1,
    size_w: Annotated[int, typer.Option(help="Mean load, PV peak or charger power in W "
                                        "(default per profile).")] = 0,
    end: Annotated[str | None, typer.Option(help="End of the last interval (date, ISO time "
                                            "or ms); default: the latest block time, "
                                            "floored to an interval.")] = None,
    utc_offset_minutes: Annotated[int, typer.Option(help="Local clock of the profile.")] = 0,
    batch: BatchOption = 100, key: KeyOption = None,
    home: HomeOption = DEFAULT_HOME, node: NodeOption = None, fee: FeeOption = None,
    output: OutputOption = "text",
) -> None:
    """Relay a simulated meter's readings for the chain's intervals ending at --end,
    resuming after the last sequence the chain holds."""
    check_output(output)
    if intervals <= 0:
        raise CliError("--intervals must be positive")
    simulated = SimulatedMeter(profile, seed, size_w, utc_offset_minutes)
    with RpcClient(node_url(home, node)) as client:
        meter = meter_state(client, meter_id)
        interval_ms = int(client.query("chain/params")["interval_ms"])
        latest = int(client.call("status")["sync_info"]["latest_block_time_ms"])
    finish = parse_time_ms(end, "end") if end is not None else latest
    finish -= finish % interval_ms
    values = [IntervalValue(*item) for item in simulated.intervals(
        finish - intervals * interval_ms, interval_ms, intervals)]
    meter_key = load_meter_key(home, key or meter_id, meter)
    plan = plan_intervals(values, meter)
    report_relay(relay(home, node, sender, meter_id, meter_key, plan, batch, fee,
                       output == "text"), output)
