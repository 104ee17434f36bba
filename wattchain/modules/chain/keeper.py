"""Validators, their pending updates and recorded evidence."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from msgpack import unpackb

from wattchain import codec
from wattchain.crypto import PUBLIC_KEY_LEN, address_of, format_address
from wattchain.hashing import sha256
from wattchain.modules.chain import keys
from wattchain.vm.state import Overlay, StateReader


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
    def from_json(cls, data: Any) -> Validator:
        public_key = bytes.fromhex(str(data["public_key"]))
        if len(public_key) != PUBLIC_KEY_LEN:
            raise ValueError("validator public_key must be 33 bytes (compressed), in hex")
        power = data["power"]
        if type(power) is not int or power <= 0:
            raise ValueError("validator power must be a positive integer")
        return cls(public_key, power, str(data.get("name", "")))


def validators_hash(validators: list[Validator]) -> bytes:
    return sha256(codec.encode([[v.public_key, v.power] for v in
                                sorted(validators, key=lambda v: v.address)]))


def load_validators(state: StateReader, key: bytes = keys.VALIDATORS_KEY) -> list[Validator]:
    raw = state.get(key)
    if raw is None:
        return []
    return [Validator(pk, power, name) for pk, power, name in codec.decode(raw)]


def save_validators(state: Overlay, validators: list[Validator],
                    key: bytes = keys.VALIDATORS_KEY) -> None:
    ordered = sorted(validators, key=lambda v: v.address)
    state.set(key, codec.encode([v.to_list() for v in ordered]))


def validators_since(state: StateReader) -> int:
    raw = state.get(keys.VALIDATORS_SINCE_KEY)
    return 1 if raw is None else int(unpackb(raw))


def add_pending_update(state: Overlay, effective_height: int, update: Validator) -> None:
    key = keys.pending_key(effective_height)
    raw = state.get(key)
    updates = [] if raw is None else codec.decode(raw)
    updates.append(update.to_list())
    state.set(key, codec.encode(updates))


def iterate_pending(state: StateReader) -> Iterator[tuple[int, list[Validator]]]:
    start = len(keys.PENDING_PREFIX)
    for key, raw in state.iterate(keys.PENDING_PREFIX):
        height = int.from_bytes(key[start:], "big")
        yield height, [Validator(pk, power, name) for pk, power, name in codec.decode(raw)]


def apply_updates(validators: list[Validator], updates: list[Validator]) -> list[Validator]:
    """Power 0 removes a validator; any other power adds it or sets its power."""
    by_key = {v.public_key: v for v in validators}
    for update in updates:
        if update.power == 0:
            by_key.pop(update.public_key, None)
        else:
            by_key[update.public_key] = update
    return list(by_key.values())
