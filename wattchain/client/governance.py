"""Admin-quorum governance from the client side.

Some txs change who governs: ``accounts.grant_role`` / ``revoke_role`` and
``chain.set_validator``. With a genesis ``admin_quorum`` above 1, each admin
who sends the same action records an approval, and the action applies when
the quorum is reached; until then it is a pending proposal, listed by the
``accounts/proposals`` query as ``{"id", "action", ...fields, "approvers"}``.
Approving a proposal is sending its action again: ``proposal_call`` gives
the (module, method, args) of that tx.
"""

from __future__ import annotations

from typing import Any

from wattchain.client.errors import ClientError
from wattchain.client.rpc import RpcClient
from wattchain.crypto import parse_address


def proposal_call(proposal: dict[str, Any]) -> tuple[str, str, list[Any]]:
    """The tx (module, method, args) that approves a proposal of the query's view."""
    action = proposal.get("action")
    if action in ("grant_role", "revoke_role"):
        return "accounts", str(action), [parse_address(proposal["account"]), proposal["role"]]
    if action == "set_validator":
        return "chain", "set_validator", [bytes.fromhex(proposal["public_key"]),
                                          int(proposal["power"]), str(proposal["name"])]
    raise ClientError(f"proposal {proposal.get('id')} has an action this client does not "
                      f"know: {action!r}")


def find_proposal(client: RpcClient, proposal_id: str) -> dict[str, Any]:
    """The pending proposal with id ``proposal_id`` (hex, with or without 0x)."""
    wanted = "0x" + proposal_id.lower().removeprefix("0x")
    for proposal in client.query("accounts/proposals")["proposals"]:
        if proposal["id"].lower() == wanted:
            found: dict[str, Any] = proposal
            return found
    raise ClientError(f"no pending proposal {wanted}: it may have passed already "
                      "(list them with `wattchain gov proposals`)")
