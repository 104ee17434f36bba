"""State reads and writes of the chain module: params, the validator set (the
current one, the one it replaced, and since when), pending validator updates
and recorded evidence.

The validator functions are also read by the node, which has no keeper.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from msgpack import packb, unpackb

from wattchain import codec
from wattchain.hashing import sha256
from wattchain.modules.chain import keys
from wattchain.modules.chain.types import Validator
from wattchain.vm.params import ChainParams, ParamsKeeper
from wattchain.vm.state import Overlay, StateReader


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


def apply_updates(validators: list[Validator], updates: list[Validator]) -> list[Validator]:
    """Power 0 removes a validator; any other power adds it or sets its power."""
    by_key = {v.public_key: v for v in validators}
    for update in updates:
        if update.power == 0:
            by_key.pop(update.public_key, None)
        else:
            by_key[update.public_key] = update
    return list(by_key.values())


class ChainKeeper(ParamsKeeper[ChainParams]):
    validators = staticmethod(load_validators)
    save_validators = staticmethod(save_validators)
    validators_since = staticmethod(validators_since)

    def __init__(self) -> None:
        super().__init__(keys.PARAMS_KEY, ChainParams)

    def set_validators_since(self, state: Overlay, height: int) -> None:
        state.set(keys.VALIDATORS_SINCE_KEY, packb(height))

    def add_pending_update(self, state: Overlay, effective_height: int,
                           update: Validator) -> None:
        key = keys.pending_key(effective_height)
        raw = state.get(key)
        updates = [] if raw is None else codec.decode(raw)
        updates.append(update.to_list())
        state.set(key, codec.encode(updates))

    def iterate_pending(self, state: StateReader) -> Iterator[tuple[int, list[Validator]]]:
        start = len(keys.PENDING_PREFIX)
        for key, raw in state.iterate(keys.PENDING_PREFIX):
            height = int.from_bytes(key[start:], "big")
            yield height, [Validator(pk, power, name) for pk, power, name in codec.decode(raw)]

    def delete_pending(self, state: Overlay, effective_height: int) -> None:
        state.delete(keys.pending_key(effective_height))

    def has_evidence(self, state: StateReader, evidence_hash: bytes) -> bool:
        return state.get(keys.evidence_key(evidence_hash)) is not None

    def save_evidence(self, state: Overlay, evidence_hash: bytes, record: list[Any]) -> None:
        """record: [validator address, height, round, vote type, height recorded at]."""
        state.set(keys.evidence_key(evidence_hash), codec.encode(record))

    def iterate_evidence(self, state: StateReader) -> Iterator[tuple[bytes, list[Any]]]:
        for key, raw in state.iterate(keys.EVIDENCE_PREFIX):
            yield key[len(keys.EVIDENCE_PREFIX):], list(codec.decode(raw))
