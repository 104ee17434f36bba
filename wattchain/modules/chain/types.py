"""The records of the chain module: a validator (or an update of one)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wattchain.crypto import PUBLIC_KEY_LEN, address_of, format_address

MAX_VALIDATOR_POWER = 1 << 40


@dataclass(slots=True)
class Validator:
    public_key: bytes
    power: int  # 0 in an update: remove the validator
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
