"""The chain module: protocol parameters and the validator set, as genesis
set them (governance of both arrives with the BFT engine)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wattchain import codec
from wattchain.crypto import PUBLIC_KEY_LEN, address_of, format_address
from wattchain.hashing import sha256
from wattchain.vm.interface import Context, Handler, Query
from wattchain.vm.params import PARAMS_KEY, ChainParams, encode_params, load_params
from wattchain.vm.state import Overlay, StateReader

VALIDATORS_KEY = b"chain/validators"


@dataclass(slots=True)
class Validator:
    public_key: bytes
    power: int
    name: str

    @property
    def address(self) -> bytes:
        return address_of(self.public_key)

    def to_list(self) -> list[Any]:
        return [self.public_key, self.power, self.name]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "address": format_address(self.address),
                "public_key": self.public_key.hex(), "power": self.power}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Validator:
        public_key = bytes.fromhex(str(data["public_key"]))
        if len(public_key) != PUBLIC_KEY_LEN:
            raise ValueError("validator public_key must be 33 bytes (compressed), in hex")
        power = data["power"]
        if type(power) is not int or power <= 0:
            raise ValueError("validator power must be a positive integer")
        return cls(public_key, power, str(data.get("name", "")))


def validators_hash(validators: list[Validator]) -> bytes:
    return sha256(codec.encode([[v.public_key, v.power] for v in validators]))


def load_validators(state: StateReader) -> list[Validator]:
    raw = state.get(VALIDATORS_KEY)
    if raw is None:
        return []
    return [Validator(pk, power, name) for pk, power, name in codec.decode(raw)]


class ChainModule:
    name = "chain"

    def __init__(self) -> None:
        self.handlers: Mapping[str, Handler] = {}
        self.queries: Mapping[str, Query] = {
            "params": self.query_params,
            "validators": self.query_validators,
        }

    def init_genesis(self, state: Overlay, section: Mapping[str, Any]) -> None:
        params = ChainParams.from_json(dict(section.get("params", {})))
        problems = params.validate()
        if problems:
            raise ValueError("; ".join(problems))
        state.set(PARAMS_KEY, encode_params(params))
        validators = [Validator.from_json(v) for v in section.get("validators", [])]
        state.set(VALIDATORS_KEY, codec.encode([v.to_list() for v in validators]))

    def export_genesis(self, state: StateReader) -> dict[str, Any]:
        return {
            "params": load_params(state).to_json(),
            "validators": [v.to_json() for v in load_validators(state)],
        }

    def end_block(self, ctx: Context) -> None:
        return None

    def check_invariants(self, state: StateReader) -> list[str]:
        if not load_validators(state):
            return ["chain: the validator set is empty"]
        return []

    def query_params(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        return load_params(state).to_json()

    def query_validators(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        validators = load_validators(state)
        return {"validators": [v.to_json() for v in validators],
                "total_power": sum(v.power for v in validators),
                "hash": validators_hash(validators).hex()}
