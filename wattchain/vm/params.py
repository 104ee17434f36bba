"""Chain parameters: set in genesis, stored in state, changed only by governance."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar, cast

from wattchain import codec
from wattchain.vm.records import Record
from wattchain.vm.state import Overlay, StateReader

PARAMS_KEY = b"chain/params"


@dataclass(slots=True)
class ChainParams(Record):
    min_fee: int = 10  # micro-units per transaction
    max_tx_bytes: int = 16 * 1024
    max_block_txs: int = 5_000
    max_block_bytes: int = 4 * 1024 * 1024
    interval_ms: int = 900_000  # market and balancing interval (15 minutes)
    admin_quorum: int = 1  # admin approvals that pass a governance action

    def validate(self) -> list[str]:
        problems = []
        for item in fields(self):
            value = getattr(self, item.name)
            if type(value) is not int or value < 0:
                problems.append(f"params.{item.name} must be a non-negative integer")
        if not problems:
            if self.max_tx_bytes < 256:
                problems.append("params.max_tx_bytes must be at least 256")
            if self.max_block_txs < 1 or self.max_block_bytes < self.max_tx_bytes:
                problems.append("params: a block must fit at least one maximal transaction")
            if self.interval_ms < 1000:
                problems.append("params.interval_ms must be at least 1000")
            if self.admin_quorum < 1:
                problems.append("params.admin_quorum must be at least 1")
        return problems

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChainParams:
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown chain params: {', '.join(unknown)}")
        return cls(**data)


def load_params(state: StateReader) -> ChainParams:
    raw = state.get(PARAMS_KEY)
    if raw is None:
        return ChainParams()
    return ChainParams(*codec.decode(raw))


def encode_params(params: ChainParams) -> bytes:
    return codec.encode(params.to_list())


class IntegerParams(Record):
    """Shared behaviour of a module's dataclass of integer protocol parameters.

    Subclasses are dataclasses whose fields are all ints; ``minimum`` is the
    smallest value each may take and ``module`` names them in errors.
    """

    __slots__ = ()
    minimum: ClassVar[int] = 0
    module: ClassVar[str] = "module"

    def validate(self) -> list[str]:
        kind = "positive" if self.minimum > 0 else "non-negative"
        return [f"params.{name} must be a {kind} integer" for name, value in self.to_json().items()
                if type(value) is not int or value < self.minimum]

    @classmethod
    def from_json(cls, data: Any) -> Self:
        if not isinstance(data, dict):
            raise ValueError("params must be an object")
        unknown = sorted(set(data) - {item.name for item in fields(cast(Any, cls))})
        if unknown:
            raise ValueError(f"unknown {cls.module} params: {', '.join(unknown)}")
        params = cls(**data)
        problems = params.validate()
        if problems:
            raise ValueError("; ".join(problems))
        return params


class StoredParams(Protocol):
    """A dataclass of integer params, stored as its ``to_list``."""

    def to_list(self) -> list[int]: ...


ParamsT = TypeVar("ParamsT", bound=StoredParams)


class ParamsKeeper(Generic[ParamsT]):
    """Base of the keeper of a module with params: ``params(state)`` reads them
    (the defaults until genesis writes them), ``set_params`` writes them, under
    ``params_key`` as the canonical encoding of their ``to_list``."""

    def __init__(self, params_key: bytes, params_type: Callable[..., ParamsT]) -> None:
        self.params_key = params_key
        self.params_type = params_type

    def params(self, state: StateReader) -> ParamsT:
        raw = state.get(self.params_key)
        return self.params_type() if raw is None else self.params_type(*codec.decode(raw))

    def set_params(self, state: Overlay, params: ParamsT) -> None:
        state.set(self.params_key, codec.encode(params.to_list()))
