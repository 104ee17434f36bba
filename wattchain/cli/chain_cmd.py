"""`wattchain chain ...` and `wattchain gov ...`: the validator set and the
admin quorum (the chain module and the accounts module's proposals).

Changing a role or the validator set needs the ``admin`` role; with a genesis
``admin_quorum`` above 1 each admin's tx records an approval, and
``gov approve`` sends a pending proposal's action again as another admin.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from wattchain.cli.command_table import Custom, Query, Send, add
from wattchain.cli.common import CliError, table
from wattchain.cli.context import connect, send
from wattchain.cli.params import SENDER, WRITE, Inputs, Param, option
from wattchain.client.governance import find_proposal, proposal_call

chain_app = typer.Typer(help="The validator set: change it (admins), pending changes, "
                             "recorded misbehaviour.", no_args_is_help=True)
gov_app = typer.Typer(help="Admin-quorum proposals: list them, approve one.",
                      no_args_is_help=True)


def public_key(value: str, inputs: Inputs) -> bytes:
    try:
        key = bytes.fromhex(value.removeprefix("0x"))
    except ValueError:
        raise CliError("--public-key must be hex") from None
    if len(key) != 33:
        raise CliError("--public-key must be a 33-byte compressed secp256k1 key (66 hex "
                       "digits)")
    return key


def pending_view(value: Any, inputs: Inputs) -> Any:
    return table("pending validator changes", ["effective height", "name", "address", "power"],
                 [[entry["effective_height"], update["name"], update["address"],
                   update["power"]] for entry in value["pending"]
                  for update in entry["updates"]])


def proposal_rows(value: Any, inputs: Inputs) -> Any:
    rows = []
    for item in value["proposals"]:
        fields = {k: v for k, v in item.items() if k not in ("id", "action", "approvers")}
        rows.append([item["id"], item["action"], ", ".join(f"{k} {v}" for k, v in
                                                           fields.items()),
                     len(item["approvers"])])
    return table(f"{len(rows)} pending proposals", ["id", "action", "what", "approvals"], rows)


add(chain_app, [
    Send("set-validator", "chain", "set_validator", "Add a validator, change its power, or "
         "remove it (--power 0) (admin; with an admin quorum above 1 this records your "
         "approval). The change applies two heights after the block that passes it.", (
             SENDER,
             option("public_key", str, "The validator's compressed public key, hex.",
                    convert=public_key),
             option("power", int, "Voting power; 0 removes the validator."),
             option("name", str, "The validator's name (moniker).", ""))),
    Query("pending", "chain/pending_validators", "Validator changes passed but not yet in "
          "force, by the height they take effect.", (), pending_view),
    Query("evidence", "chain/evidence", "Recorded equivocation evidence against validators.",
          (), lambda value, inputs: table(
              "equivocation evidence", ["validator", "height", "round", "vote", "recorded at"],
              [[item["validator"], item["height"], item["round"], item["vote_type"],
                item["recorded_at"]] for item in value["evidence"]])),
])


add(gov_app, [
    Query("proposals", "accounts/proposals", "Pending admin-quorum proposals with their "
          "approvers.", (), proposal_rows),
])


def approve(proposal_id: str, sender: str, home: Path, node: str | None, fee: int | None,
            wait: bool, output: str) -> None:
    """Approve a pending proposal (admin): send its action again as you."""
    with connect(home, node) as client:
        module, method, args = proposal_call(find_proposal(client, proposal_id))
    send(home, node, sender, module, method, args, fee, wait, output)


add(gov_app, [Custom("approve", approve, (Param("proposal_id", Annotated[str, typer.Argument(
    help="Proposal id (0x...), from `gov proposals`.")]), SENDER), WRITE)])
