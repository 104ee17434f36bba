"""The genesis document: what a chain starts from.

Protocol parameters live here (and change later only by governance); network
settings such as ports live in each node's config.toml instead.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wattchain.vm.params import ChainParams

CHAIN_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")


class GenesisError(ValueError):
    """A genesis document that cannot start a chain; the message lists why."""


@dataclass
class Genesis:
    chain_id: str
    genesis_time_ms: int
    initial_height: int = 1
    params: dict[str, Any] = field(default_factory=dict)
    validators: list[dict[str, Any]] = field(default_factory=list)
    app_state: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "chain_id": self.chain_id,
            "genesis_time_ms": self.genesis_time_ms,
            "initial_height": self.initial_height,
            "params": self.params,
            "validators": self.validators,
            "app_state": self.app_state,
        }

    @classmethod
    def from_json(cls, data: Any) -> Genesis:
        if not isinstance(data, dict):
            raise GenesisError("genesis must be a JSON object")
        known = {"chain_id", "genesis_time_ms", "initial_height", "params", "validators",
                 "app_state"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise GenesisError(f"unknown genesis fields: {', '.join(unknown)}")
        missing = sorted({"chain_id", "genesis_time_ms", "validators"} - set(data))
        if missing:
            raise GenesisError(f"genesis is missing: {', '.join(missing)}")
        genesis = cls(
            chain_id=data["chain_id"],
            genesis_time_ms=data["genesis_time_ms"],
            initial_height=data.get("initial_height", 1),
            params=data.get("params", {}),
            validators=data["validators"],
            app_state=data.get("app_state", {}),
        )
        problems = genesis.validate()
        if problems:
            raise GenesisError("invalid genesis: " + "; ".join(problems))
        return genesis

    def validate(self) -> list[str]:
        """Every problem found, as messages naming the field."""
        problems: list[str] = []
        if not isinstance(self.chain_id, str) or not CHAIN_ID_PATTERN.match(self.chain_id):
            problems.append("chain_id must be 1-48 lowercase letters, digits or '-'")
        if type(self.genesis_time_ms) is not int or self.genesis_time_ms < 0:
            problems.append("genesis_time_ms must be a non-negative integer (ms since epoch)")
        if type(self.initial_height) is not int or self.initial_height < 1:
            problems.append("initial_height must be a positive integer")
        if not isinstance(self.params, dict):
            problems.append("params must be an object")
        else:
            try:
                problems.extend(ChainParams.from_json(self.params).validate())
            except (TypeError, ValueError) as exc:
                problems.append(str(exc))
        problems.extend(_validate_validators(self.validators))
        if not isinstance(self.app_state, dict):
            problems.append("app_state must be an object")
        return problems


def _validate_validators(validators: Any) -> list[str]:
    if not isinstance(validators, list) or not validators:
        return ["validators must be a non-empty list"]
    problems = []
    seen: set[str] = set()
    for index, entry in enumerate(validators):
        where = f"validators[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where} must be an object")
            continue
        key = entry.get("public_key")
        if not isinstance(key, str) or not re.fullmatch(r"0[23][0-9a-f]{64}", key):
            problems.append(f"{where}.public_key must be a compressed secp256k1 key in hex")
        elif key in seen:
            problems.append(f"{where}: duplicate public key")
        seen.add(str(key))
        power = entry.get("power")
        if type(power) is not int or not 0 < power < (1 << 50):
            problems.append(f"{where}.power must be a positive integer")
    return problems


def load_genesis(path: Path) -> Genesis:
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise GenesisError(f"no genesis file at {path}") from None
    except OSError as exc:
        raise GenesisError(f"cannot read the genesis file {path}: {exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GenesisError(f"{path} is not valid JSON: {exc}") from None
    return Genesis.from_json(data)


def save_genesis(genesis: Genesis, path: Path) -> None:
    Path(path).write_text(json.dumps(genesis.to_json(), indent=2) + "\n")
