"""Governance actions: what admins approve, in state and in JSON.

An action is a canonical list ``[kind, *arguments]``. Each kind has a JSON
form (bytes as hex) so pending proposals survive genesis export -> import.
"""

from __future__ import annotations

from typing import Any

from wattchain.crypto import format_address, parse_address


def action_to_json(action: list[Any]) -> list[Any]:
    kind = action[0]
    if kind in ("grant_role", "revoke_role"):
        return [kind, format_address(action[1]), action[2]]
    if kind == "set_validator":
        return [kind, action[1].hex(), action[2], action[3]]
    raise ValueError(f"unknown governance action {kind!r}")


def action_from_json(value: Any) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise ValueError("a proposal action must be a non-empty list")
    kind = value[0]
    if kind in ("grant_role", "revoke_role") and len(value) == 3:
        return [kind, parse_address(str(value[1])), str(value[2])]
    if kind == "set_validator" and len(value) == 4 and type(value[2]) is int:
        return [kind, bytes.fromhex(str(value[1])), value[2], str(value[3])]
    raise ValueError(f"malformed governance action {value!r}")


def describe_action(action: list[Any]) -> dict[str, Any]:
    """Query view: the action kind plus named fields."""
    kind = action[0]
    if kind in ("grant_role", "revoke_role"):
        return {"action": kind, "account": format_address(action[1]), "role": action[2]}
    if kind == "set_validator":
        return {"action": kind, "public_key": action[1].hex(), "power": action[2],
                "name": action[3]}
    return {"action": str(kind)}
