"""`wattchain zone|producer|asset|certifier ...`: the registration module.

Transactions go through ``context.send`` (nonce, fee, signing, broadcast);
reads through ``abci_query`` paths ``registration/<query>``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any

import typer

from wattchain.cli.command_table import Query, Send, add
from wattchain.cli.common import CliError, console, kv_table, table
from wattchain.cli.context import fetch
from wattchain.cli.params import SENDER, Inputs, Param, address_field, option
from wattchain.cli.registration_views import (
    asset_rows,
    assets_table,
    capacity_table,
    event_attribute,
    format_time,
    history_table,
    parse_degrees,
    parse_time_ms,
)

zone_app = typer.Typer(help="Grid zones: hosting capacity set by their DSO.",
                       no_args_is_help=True)
producer_app = typer.Typer(help="Producer profiles.", no_args_is_help=True)
asset_app = typer.Typer(help="Production, storage and flexible-load assets.",
                        no_args_is_help=True)
certifier_app = typer.Typer(help="Verification: attest (certifier), approve the grid "
                            "connection (zone DSO), certify (certifier).", no_args_is_help=True)


def registration(name: str, method: str, doc: str, params: tuple[Param, ...],
                 **row: Any) -> Send:
    return Send(name, "registration", method, doc, params, **row)


ZONE_ID = Param("zone_id", Annotated[str, typer.Argument(help="Zone id.")])
ASSET_ID = Param("asset_id", Annotated[int, typer.Argument(help="Asset id.")])
REASON = option("reason", str, "Why; recorded in the asset's history.")
REVISION = option("revision", int | None, "Asset revision you inspected (default: the "
                  "current one).", None)


def current_revision(inputs: Inputs) -> int:
    if inputs["revision"] is not None:
        return int(inputs["revision"])
    asset = fetch(inputs["home"], inputs["node"], "registration/asset",
                  asset_id=inputs["asset_id"])
    return int(asset["revision"])


# -- zone ----------------------------------------------------------------------------------

add(zone_app, [
    registration("set", "set_zone", "Create a zone (dso role; you become its operator) or "
                 "change one you operate.",
                 (Param("zone_id", Annotated[str, typer.Argument(
                     help="Zone id, e.g. north-feeder.")]), SENDER,
                  option("name", str, "Human-readable name."),
                  option("hosting_capacity_w", int, "Hosting capacity in W."))),
    Query("show", "registration/zone", "A zone: operator, hosting and connected capacity.",
          (ZONE_ID,), lambda value, inputs: kv_table(f"zone {inputs['zone_id']}", value)),
    Query("list", "registration/zones", "Every zone.", (),
          lambda value, inputs: table(
              "zones", ["zone", "name", "hosting W", "connected W", "operator"],
              [[z["zone_id"], z["name"], z["hosting_capacity_w"], z["connected_w"],
                z["operator"]] for z in value["zones"]])),
    Query("capacity", "registration/capacity",
          "Capacity by zone and asset type: hosting, connected, active, pending.",
          (Param("zone_id", Annotated[str | None, typer.Argument(help="Default: all.")],
                 None),),
          lambda value, inputs: capacity_table(value["zones"])),
])


# -- producer ------------------------------------------------------------------------------


def producer_args(inputs: Inputs) -> list[Any]:
    metadata, metadata_file = inputs["metadata"], inputs["metadata_file"]
    if metadata_file is not None:
        if metadata:
            raise CliError("give --metadata or --metadata-file, not both")
        metadata = metadata_file.read_text()
    return [inputs["name"], inputs["kind"], inputs["contact"], metadata]


PRODUCER = (SENDER, option("name", str, "Producer name."),
            option("kind", str, "household, community, business or utility."),
            option("contact", str, "Contact URI, e.g. mailto:me@example.org."),
            option("metadata", str, "Free text, e.g. JSON (size-limited).", ""),
            option("metadata_file", Path | None, "Read the metadata from a file instead.", None))


def producer_view(value: Any, inputs: Inputs) -> Any:
    rows = {**value, "registered": f"height {value['registered_height']}, "
            f"{format_time(value['registered_time_ms'])}"}
    for field in ("registered_height", "registered_time_ms"):
        rows.pop(field)
    return kv_table(f"producer {inputs['who']}", rows)


add(producer_app, [
    registration("register", "register_producer", "Register your producer profile "
                 "(producer role).", PRODUCER, args=producer_args),
    registration("update", "update_producer", "Update your producer profile (producer role).",
                 PRODUCER, args=producer_args),
    Query("show", "registration/producer", "A producer profile and the ids of its assets.",
          (Param("who", Annotated[str, typer.Argument(help="Key name or 0x address.")],
                 key="address", convert=address_field),), producer_view),
    Query("list", "registration/producers", "Every producer profile.",
          (option("kind", str | None, "Only this kind.", None),),
          lambda value, inputs: table("producers", ["address", "name", "kind", "contact"],
                                      [[p["address"], p["name"], p["kind"], p["contact_uri"]]
                                       for p in value["producers"]])),
])


# -- asset ---------------------------------------------------------------------------------


def asset_add_args(inputs: Inputs) -> list[Any]:
    return [inputs["asset_type"], inputs["capacity_w"], inputs["energy_wh"], inputs["zone"],
            inputs["connection_point"], parse_degrees(inputs["latitude"], "latitude", 90),
            parse_degrees(inputs["longitude"], "longitude", 180),
            parse_time_ms(inputs["commissioned"], "commissioned"), inputs["manufacturer"],
            inputs["model"], inputs["serial"], inputs["inverter"], inputs["units"],
            inputs["meter"]]


def print_asset_id(answer: Any, inputs: Inputs) -> None:
    asset_id = event_attribute(answer, "asset_registered", "asset_id")
    if inputs["output"] == "text" and asset_id is not None:
        console.print(f"asset id {asset_id}")


UPDATES = ("capacity_w", "energy_wh", "manufacturer", "model", "serial", "inverter", "units",
           "meter")


def asset_update_args(inputs: Inputs) -> list[Any]:
    """The update tx's full argument list: what was given, else the current value."""
    if all(inputs[name] is None for name in UPDATES):
        raise CliError("nothing to update: give at least one of --capacity-w, --energy-wh, "
                       "--manufacturer, --model, --serial, --inverter, --units, --meter")
    current = fetch(inputs["home"], inputs["node"], "registration/asset",
                    asset_id=inputs["asset_id"])
    equipment = current["equipment"]
    now = [current["capacity_w"], current["energy_wh"], equipment["manufacturer"],
           equipment["model"], equipment["serial"], equipment["inverter_model"],
           equipment["unit_count"], current["meter_id"]]
    return [inputs["asset_id"], *(old if inputs[name] is None else inputs[name]
                                  for name, old in zip(UPDATES, now, strict=True))]


def asset_show_view(value: Any, inputs: Inputs) -> Any:
    """Adds the asset's history to ``value`` (JSON output shows it too)."""
    value["history"] = fetch(inputs["home"], inputs["node"], "registration/history",
                             asset_id=inputs["asset_id"])["history"]
    return [kv_table(f"asset {inputs['asset_id']}", asset_rows(value)),
            history_table(inputs["asset_id"], value["history"])]


def asset_list_view(value: Any, inputs: Inputs) -> Any:
    more = value["next_after"]
    return [assets_table(value["assets"])] + ([] if more is None else [f"more: --after {more}"])


def authority(name: str, doc: str) -> Send:
    return registration(name, name, doc, (ASSET_ID, SENDER, REASON))


add(asset_app, [
    registration("add", "add_asset", "Submit an asset for verification (producer role and "
                 "profile); prints its id.", (
                     SENDER,
                     option("asset_type", str, "solar, wind, hydro, biomass, geothermal, "
                            "storage or flexible_load.", flag="--type"),
                     option("capacity_w", int, "Nameplate capacity in W."),
                     option("zone", str, "Zone id."),
                     option("connection_point", str, "Connection point id."),
                     option("latitude", str, "Decimal degrees, e.g. 52.520008."),
                     option("longitude", str, "Decimal degrees, e.g. 13.404954."),
                     option("commissioned", str, "Date (2025-06-01), ISO time or ms."),
                     option("manufacturer", str), option("model", str),
                     option("serial", str, "Serial number (unique on the chain)."),
                     option("energy_wh", int, "Storage energy capacity in Wh.", 0),
                     option("inverter", str, "Inverter model, if any.", ""),
                     option("units", int, "Number of units (panels, turbines).", 1),
                     option("meter", str, "Id of the meter bound to it, if any.", "")),
                 args=asset_add_args, after=print_asset_id),
    registration("update", "update_asset", "Change capacity, specs or meter (owner). New "
                 "capacity or specs send the asset back\nto verification; a new meter alone "
                 "does not.", (
                     ASSET_ID, SENDER, option("capacity_w", int | None, "New capacity in W.",
                                              None),
                     option("energy_wh", int | None, "New storage energy in Wh.", None),
                     *(option(name, str | None, None, None)
                       for name in ("manufacturer", "model", "serial", "inverter")),
                     option("units", int | None, None, None),
                     option("meter", str | None, "Meter id (\"\" unbinds).", None)),
                 args=asset_update_args),
    Query("show", "registration/asset", "An asset, its certifications, what it backs now, and "
          "its status history.", (ASSET_ID,), asset_show_view,
          extra=lambda client: {"at_ms": client.latest_time_ms()}),
    Query("list", "registration/assets", "Assets, filtered by zone, type, status and owner.", (
        option("zone", str | None, "Only this zone.", None, key="zone_id"),
        option("asset_type", str | None, "Only this type.", None, flag="--type", key="type"),
        option("status", str | None, "submitted, attested, active, suspended or revoked.",
               None),
        option("owner", str | None, "Key name or 0x address.", None, convert=address_field),
        option("after", int, "Page on after this asset id.", 0),
        option("limit", int, "At most this many (1..1000).", 100)), asset_list_view),
    Query("expiring", "registration/expiring",
          "Certifications whose validity ends before a time, soonest first.",
          (option("before", str, "Date, ISO time or ms.", key="before_ms",
                  convert=lambda value, inputs: parse_time_ms(value, "before")),),
          lambda value, inputs: table(
              "certifications expiring", ["asset", "scheme", "id", "ends"],
              [[c["asset_id"], c["scheme"], c["certificate_id"],
                format_time(c["valid_to_ms"])] for c in value["certifications"]])),
    authority("suspend", "Suspend an active asset (zone DSO, its certifier or an admin)."),
    authority("reinstate", "Reinstate a suspended asset (whoever suspended it, or an admin)."),
    authority("revoke", "Revoke an asset for good (owner, zone DSO, its certifier or an "
              "admin)."),
])


# -- certifier -----------------------------------------------------------------------------


def attest_args(inputs: Inputs) -> list[Any]:
    evidence, evidence_hash = inputs["evidence"], inputs["evidence_hash"]
    if (evidence is None) == (evidence_hash is None):
        raise CliError("give exactly one of --evidence FILE or --evidence-hash HEX")
    if evidence is not None:
        digest = hashlib.sha256(evidence.read_bytes()).digest()
    else:
        digest = bytes.fromhex(str(evidence_hash).removeprefix("0x"))
        if len(digest) != 32:
            raise CliError("--evidence-hash must be 32 bytes (64 hex digits)")
    return [inputs["asset_id"], current_revision(inputs), digest]


def time_option(name: str, help_text: str) -> Param:
    flag = "--" + name.replace("_", "-")
    return option(name, str, help_text, convert=lambda value, inputs: parse_time_ms(
        value, flag[2:]))


add(certifier_app, [
    registration("attest", "attest", "Attest that you inspected an asset (certifier role, "
                 "not your own asset).", (
                     ASSET_ID, SENDER,
                     option("evidence", Path | None, "Inspection evidence file; its sha256 "
                            "goes on chain.", None),
                     option("evidence_hash", str | None, "sha256 of the evidence, hex "
                            "(instead of --evidence).", None), REVISION),
                 args=attest_args),
    registration("approve", "approve", "Approve an attested asset's grid connection (the DSO "
                 "operating its zone).", (ASSET_ID, SENDER, REVISION),
                 args=lambda inputs: [inputs["asset_id"], current_revision(inputs)]),
    registration("certify", "certify", "Attach a certification to a verified renewable asset "
                 "(certifier role).", (
                     ASSET_ID, SENDER, option("scheme", str, "I-REC, GO, REC or custom."),
                     option("certificate_id", str, "Id of the certificate in its scheme."),
                     time_option("valid_from", "Date, ISO time or ms (inclusive)."),
                     time_option("valid_to", "Date, ISO time or ms (exclusive)."))),
    Query("list", "accounts/role", "Accounts admitted as certifiers (granted by the admin "
          "quorum).", (), lambda value, inputs: table(
              "certifiers", ["address"], [[a] for a in value["accounts"]]),
          data=lambda inputs: {"role": "certifier"}),
])

