"""`wattchain zone|producer|asset|certifier ...`: the registration module.

Transactions go through ``tx_cmd.send`` (nonce, fee, signing, broadcast);
reads through ``abci_query`` paths ``registration/<query>``.
"""

from __future__ import annotations

import hashlib
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
    console,
    emit,
    handle_errors,
    kv_table,
    node_url,
)
from wattchain.cli.query_cmd import address_text
from wattchain.cli.registration_views import (
    asset_rows,
    assets_table,
    capacity_table,
    event_attribute,
    format_time,
    history_table,
    parse_degrees,
    parse_time_ms,
    table,
)
from wattchain.cli.tx_cmd import FeeOption, FromOption, WaitOption, send

zone_app = typer.Typer(help="Grid zones: hosting capacity set by their DSO.",
                       no_args_is_help=True)
producer_app = typer.Typer(help="Producer profiles.", no_args_is_help=True)
asset_app = typer.Typer(help="Production, storage and flexible-load assets.",
                        no_args_is_help=True)
certifier_app = typer.Typer(help="Verification: attest (certifier), approve the grid "
                            "connection (zone DSO), certify (certifier).", no_args_is_help=True)

AssetId = Annotated[int, typer.Argument(help="Asset id.")]
Reason = Annotated[str, typer.Option(help="Why; recorded in the asset's history.")]
Revision = Annotated[int | None, typer.Option(
    help="Asset revision you inspected (default: the current one).")]


def transact(home: Path, node: str | None, sender: str, method: str, args: list[Any],
             fee: int | None, wait: bool, output: str) -> Any:
    return send(home, node, sender, "registration", method, args, fee, wait, output)


def fetch(home: Path, node: str | None, path: str, **data: Any) -> Any:
    with RpcClient(node_url(home, node)) as client:
        return client.query("registration/" + path, **data)


def latest_time_ms(home: Path, node: str | None) -> int:
    with RpcClient(node_url(home, node)) as client:
        return int(client.call("status")["sync_info"]["latest_block_time_ms"])


# -- zone ----------------------------------------------------------------------------------


@zone_app.command("set")
@handle_errors
def zone_set(
    zone_id: Annotated[str, typer.Argument(help="Zone id, e.g. north-feeder.")],
    sender: FromOption,
    name: Annotated[str, typer.Option(help="Human-readable name.")],
    hosting_capacity_w: Annotated[int, typer.Option(help="Hosting capacity in W.")],
    home: HomeOption = DEFAULT_HOME, node: NodeOption = None, fee: FeeOption = None,
    wait: WaitOption = True, output: OutputOption = "text",
) -> None:
    """Create a zone (dso role; you become its operator) or change one you operate."""
    transact(home, node, sender, "set_zone", [zone_id, name, hosting_capacity_w], fee, wait,
             output)


@zone_app.command("show")
@handle_errors
def zone_show(zone_id: Annotated[str, typer.Argument(help="Zone id.")],
              home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
              output: OutputOption = "text") -> None:
    """A zone: operator, hosting and connected capacity."""
    check_output(output)
    value = fetch(home, node, "zone", zone_id=zone_id)
    emit(output, value, kv_table(f"zone {zone_id}", value))


@zone_app.command("list")
@handle_errors
def zone_list(home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
              output: OutputOption = "text") -> None:
    """Every zone."""
    check_output(output)
    value = fetch(home, node, "zones")
    emit(output, value, table("zones", ["zone", "name", "hosting W", "connected W", "operator"],
                              [[z["zone_id"], z["name"], z["hosting_capacity_w"],
                                z["connected_w"], z["operator"]] for z in value["zones"]]))


@zone_app.command("capacity")
@handle_errors
def zone_capacity(zone_id: Annotated[str | None, typer.Argument(help="Default: all.")] = None,
                  home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
                  output: OutputOption = "text") -> None:
    """Capacity by zone and asset type: hosting, connected, active, pending."""
    check_output(output)
    value = fetch(home, node, "capacity", **({} if zone_id is None else {"zone_id": zone_id}))
    emit(output, value, capacity_table(value["zones"]))


# -- producer ------------------------------------------------------------------------------


def _producer_command(method: str, verb: str) -> Any:
    def command(
        sender: FromOption,
        name: Annotated[str, typer.Option(help="Producer name.")],
        kind: Annotated[str, typer.Option(help="household, community, business or utility.")],
        contact: Annotated[str, typer.Option(help="Contact URI, e.g. mailto:me@example.org.")],
        metadata: Annotated[str, typer.Option(help="Free text, e.g. JSON (size-limited).")] = "",
        metadata_file: Annotated[Path | None, typer.Option(
            help="Read the metadata from a file instead.")] = None,
        home: HomeOption = DEFAULT_HOME, node: NodeOption = None, fee: FeeOption = None,
        wait: WaitOption = True, output: OutputOption = "text",
    ) -> None:
        if metadata_file is not None:
            if metadata:
                raise CliError("give --metadata or --metadata-file, not both")
            metadata = metadata_file.read_text()
        transact(home, node, sender, method, [name, kind, contact, metadata], fee, wait, output)

    command.__doc__ = f"{verb} your producer profile (producer role)."
    return handle_errors(command)


producer_app.command("register")(_producer_command("register_producer", "Register"))
producer_app.command("update")(_producer_command("update_producer", "Update"))


@producer_app.command("show")
@handle_errors
def producer_show(who: Annotated[str, typer.Argument(help="Key name or 0x address.")],
                  home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
                  output: OutputOption = "text") -> None:
    """A producer profile and the ids of its assets."""
    check_output(output)
    value = fetch(home, node, "producer", address=address_text(home, who))
    rows = {**value, "registered": f"height {value['registered_height']}, "
            f"{format_time(value['registered_time_ms'])}"}
    for field in ("registered_height", "registered_time_ms"):
        rows.pop(field)
    emit(output, value, kv_table(f"producer {who}", rows))


@producer_app.command("list")
@handle_errors
def producer_list(kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
                  home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
                  output: OutputOption = "text") -> None:
    """Every producer profile."""
    check_output(output)
    value = fetch(home, node, "producers", **({} if kind is None else {"kind": kind}))
    emit(output, value, table("producers", ["address", "name", "kind", "contact"],
                              [[p["address"], p["name"], p["kind"], p["contact_uri"]]
                               for p in value["producers"]]))


# -- asset ---------------------------------------------------------------------------------


@asset_app.command("add")
@handle_errors
def asset_add(
    sender: FromOption,
    asset_type: Annotated[str, typer.Option("--type", help="solar, wind, hydro, biomass, "
                                            "geothermal, storage or flexible_load.")],
    capacity_w: Annotated[int, typer.Option(help="Nameplate capacity in W.")],
    zone: Annotated[str, typer.Option(help="Zone id.")],
    connection_point: Annotated[str, typer.Option(help="Connection point id.")],
    latitude: Annotated[str, typer.Option(help="Decimal degrees, e.g. 52.520008.")],
    longitude: Annotated[str, typer.Option(help="Decimal degrees, e.g. 13.404954.")],
    commissioned: Annotated[str, typer.Option(help="Date (2025-06-01), ISO time or ms.")],
    manufacturer: Annotated[str, typer.Option()],
    model: Annotated[str, typer.Option()],
    serial: Annotated[str, typer.Option(help="Serial number (unique on the chain).")],
    energy_wh: Annotated[int, typer.Option(help="Storage energy capacity in Wh.")] = 0,
    inverter: Annotated[str, typer.Option(help="Inverter model, if any.")] = "",
    units: Annotated[int, typer.Option(help="Number of units (panels, turbines).")] = 1,
    meter: Annotated[str, typer.Option(help="Id of the meter bound to it, if any.")] = "",
    home: HomeOption = DEFAULT_HOME, node: NodeOption = None, fee: FeeOption = None,
    wait: WaitOption = True, output: OutputOption = "text",
) -> None:
    """Submit an asset for verification (producer role and profile); prints its id."""
    args = [asset_type, capacity_w, energy_wh, zone, connection_point,
            parse_degrees(latitude, "latitude", 90), parse_degrees(longitude, "longitude", 180),
            parse_time_ms(commissioned, "commissioned"), manufacturer, model, serial, inverter,
            units, meter]
    answer = transact(home, node, sender, "add_asset", args, fee, wait, output)
    asset_id = event_attribute(answer, "asset_registered", "asset_id")
    if output == "text" and asset_id is not None:
        console.print(f"asset id {asset_id}")


@asset_app.command("update")
@handle_errors
def asset_update(
    asset_id: AssetId, sender: FromOption,
    capacity_w: Annotated[int | None, typer.Option(help="New capacity in W.")] = None,
    energy_wh: Annotated[int | None, typer.Option(help="New storage energy in Wh.")] = None,
    manufacturer: Annotated[str | None, typer.Option()] = None,
    model: Annotated[str | None, typer.Option()] = None,
    serial: Annotated[str | None, typer.Option()] = None,
    inverter: Annotated[str | None, typer.Option()] = None,
    units: Annotated[int | None, typer.Option()] = None,
    meter: Annotated[str | None, typer.Option(help="Meter id (\"\" unbinds).")] = None,
    home: HomeOption = DEFAULT_HOME, node: NodeOption = None, fee: FeeOption = None,
    wait: WaitOption = True, output: OutputOption = "text",
) -> None:
    """Change capacity, specs or meter (owner). New capacity or specs send the asset back
    to verification; a new meter alone does not."""
    changes = (capacity_w, energy_wh, manufacturer, model, serial, inverter, units, meter)
    if all(change is None for change in changes):
        raise CliError("nothing to update: give at least one of --capacity-w, --energy-wh, "
                       "--manufacturer, --model, --serial, --inverter, --units, --meter")
    current = fetch(home, node, "asset", asset_id=asset_id)
    equipment = current["equipment"]

    def pick(new: Any, old: Any) -> Any:
        return old if new is None else new

    args = [asset_id, pick(capacity_w, current["capacity_w"]),
            pick(energy_wh, current["energy_wh"]),
            pick(manufacturer, equipment["manufacturer"]), pick(model, equipment["model"]),
            pick(serial, equipment["serial"]), pick(inverter, equipment["inverter_model"]),
            pick(units, equipment["unit_count"]), pick(meter, current["meter_id"])]
    transact(home, node, sender, "update_asset", args, fee, wait, output)


@asset_app.command("show")
@handle_errors
def asset_show(asset_id: AssetId, home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
               output: OutputOption = "text") -> None:
    """An asset, its certifications, what it backs now, and its status history."""
    check_output(output)
    value = fetch(home, node, "asset", asset_id=asset_id, at_ms=latest_time_ms(home, node))
    value["history"] = fetch(home, node, "history", asset_id=asset_id)["history"]
    emit(output, value, kv_table(f"asset {asset_id}", asset_rows(value)))
    if output == "text":
        console.print(history_table(asset_id, value["history"]))


@asset_app.command("list")
@handle_errors
def asset_list(
    zone: Annotated[str | None, typer.Option(help="Only this zone.")] = None,
    asset_type: Annotated[str | None, typer.Option("--type", help="Only this type.")] = None,
    status: Annotated[str | None, typer.Option(help="submitted, attested, active, "
                                               "suspended or revoked.")] = None,
    owner: Annotated[str | None, typer.Option(help="Key name or 0x address.")] = None,
    after: Annotated[int, typer.Option(help="Page on after this asset id.")] = 0,
    limit: Annotated[int, typer.Option(help="At most this many (1..1000).")] = 100,
    home: HomeOption = DEFAULT_HOME, node: NodeOption = None, output: OutputOption = "text",
) -> None:
    """Assets, filtered by zone, type, status and owner."""
    check_output(output)
    filters: dict[str, Any] = {"after": after, "limit": limit}
    for key, value in (("zone_id", zone), ("type", asset_type), ("status", status)):
        if value is not None:
            filters[key] = value
    if owner is not None:
        filters["owner"] = address_text(home, owner)
    value = fetch(home, node, "assets", **filters)
    emit(output, value, assets_table(value["assets"]))
    if output == "text" and value["next_after"] is not None:
        console.print(f"more: --after {value['next_after']}")


@asset_app.command("expiring")
@handle_errors
def asset_expiring(
    before: Annotated[str, typer.Option(help="Date, ISO time or ms.")],
    home: HomeOption = DEFAULT_HOME, node: NodeOption = None, output: OutputOption = "text",
) -> None:
    """Certifications whose validity ends before a time, soonest first."""
    check_output(output)
    value = fetch(home, node, "expiring", before_ms=parse_time_ms(before, "before"))
    emit(output, value, table("certifications expiring", ["asset", "scheme", "id", "ends"],
                              [[c["asset_id"], c["scheme"], c["certificate_id"],
                                format_time(c["valid_to_ms"])]
                               for c in value["certifications"]]))


def _authority_command(method: str, doc: str) -> Any:
    def command(
        asset_id: AssetId, sender: FromOption, reason: Reason,
        home: HomeOption = DEFAULT_HOME, node: NodeOption = None, fee: FeeOption = None,
        wait: WaitOption = True, output: OutputOption = "text",
    ) -> None:
        transact(home, node, sender, method, [asset_id, reason], fee, wait, output)

    command.__doc__ = doc
    return handle_errors(command)


asset_app.command("suspend")(_authority_command(
    "suspend", "Suspend an active asset (zone DSO, its certifier or an admin)."))
asset_app.command("reinstate")(_authority_command(
    "reinstate", "Reinstate a suspended asset (whoever suspended it, or an admin)."))
asset_app.command("revoke")(_authority_command(
    "revoke", "Revoke an asset for good (owner, zone DSO, its certifier or an admin)."))


# -- certifier -----------------------------------------------------------------------------


def current_revision(home: Path, node: str | None, asset_id: int, revision: int | None) -> int:
    if revision is not None:
        return revision
    return int(fetch(home, node, "asset", asset_id=asset_id)["revision"])


@certifier_app.command("attest")
@handle_errors
def certifier_attest(
    asset_id: AssetId, sender: FromOption,
    evidence: Annotated[Path | None, typer.Option(
        help="Inspection evidence file; its sha256 goes on chain.")] = None,
    evidence_hash: Annotated[str | None, typer.Option(
        help="sha256 of the evidence, hex (instead of --evidence).")] = None,
    revision: Revision = None,
    home: HomeOption = DEFAULT_HOME, node: NodeOption = None, fee: FeeOption = None,
    wait: WaitOption = True, output: OutputOption = "text",
) -> None:
    """Attest that you inspected an asset (certifier role, not your own asset)."""
    if (evidence is None) == (evidence_hash is None):
        raise CliError("give exactly one of --evidence FILE or --evidence-hash HEX")
    if evidence is not None:
        digest = hashlib.sha256(evidence.read_bytes()).digest()
    else:
        digest = bytes.fromhex(str(evidence_hash).removeprefix("0x"))
        if len(digest) != 32:
            raise CliError("--evidence-hash must be 32 bytes (64 hex digits)")
    transact(home, node, sender, "attest",
             [asset_id, current_revision(home, node, asset_id, revision), digest], fee, wait,
             output)


@certifier_app.command("approve")
@handle_errors
def certifier_approve(
    asset_id: AssetId, sender: FromOption, revision: Revision = None,
    home: HomeOption = DEFAULT_HOME, node: NodeOption = None, fee: FeeOption = None,
    wait: WaitOption = True, output: OutputOption = "text",
) -> None:
    """Approve an attested asset's grid connection (the DSO operating its zone)."""
    transact(home, node, sender, "approve",
             [asset_id, current_revision(home, node, asset_id, revision)], fee, wait, output)


@certifier_app.command("certify")
@handle_errors
def certifier_certify(
    asset_id: AssetId, sender: FromOption,
    scheme: Annotated[str, typer.Option(help="I-REC, GO, REC or custom.")],
    certificate_id: Annotated[str, typer.Option(help="Id of the certificate in its scheme.")],
    valid_from: Annotated[str, typer.Option(help="Date, ISO time or ms (inclusive).")],
    valid_to: Annotated[str, typer.Option(help="Date, ISO time or ms (exclusive).")],
    home: HomeOption = DEFAULT_HOME, node: NodeOption = None, fee: FeeOption = None,
    wait: WaitOption = True, output: OutputOption = "text",
) -> None:
    """Attach a certification to a verified renewable asset (certifier role)."""
    transact(home, node, sender, "certify",
             [asset_id, scheme, certificate_id, parse_time_ms(valid_from, "valid-from"),
              parse_time_ms(valid_to, "valid-to")], fee, wait, output)


@certifier_app.command("list")
@handle_errors
def certifier_list(home: HomeOption = DEFAULT_HOME, node: NodeOption = None,
                   output: OutputOption = "text") -> None:
    """Accounts admitted as certifiers (granted by the admin quorum)."""
    check_output(output)
    with RpcClient(node_url(home, node)) as client:
        value = client.query("accounts/role", role="certifier")
    emit(output, value, table("certifiers", ["address"], [[a] for a in value["accounts"]]))
