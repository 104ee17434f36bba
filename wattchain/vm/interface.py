"""What the vm and the modules share: the execution context and module shape.

A module is a name, a table of tx handlers, a table of queries, genesis
import/export, an end_block hook and invariants. Handlers read and write
state only through ``ctx.state`` and report what they did with ``ctx.emit``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from wattchain.crypto import ADDRESS_LEN
from wattchain.types import Event
from wattchain.vm.errors import InvalidArgs
from wattchain.vm.params import ChainParams
from wattchain.vm.state import Overlay, StateReader


class Context:
    """Everything a handler may look at: state, sender, block height and time."""

    __slots__ = ("state", "sender", "height", "time_ms", "chain_id", "params", "events",
                 "module")

    def __init__(
        self,
        state: Overlay,
        sender: bytes,
        height: int,
        time_ms: int,
        chain_id: str,
        params: ChainParams,
        module: str = "",
    ) -> None:
        self.state = state
        self.sender = sender
        self.height = height
        self.time_ms = time_ms
        self.chain_id = chain_id
        self.params = params
        self.events: list[Event] = []
        self.module = module

    def emit(self, kind: str, attributes: Mapping[str, object]) -> None:
        self.events.append(
            Event(self.module, kind, [(key, _attribute_text(v)) for key, v in attributes.items()])
        )


def _attribute_text(value: object) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


Handler = Callable[[Context, list[Any]], None]
Query = Callable[[StateReader, Mapping[str, Any]], Any]


class Module(Protocol):
    name: str
    handlers: Mapping[str, Handler]
    queries: Mapping[str, Query]

    def init_genesis(self, state: Overlay, section: Mapping[str, Any]) -> None: ...

    def export_genesis(self, state: StateReader) -> dict[str, Any]: ...

    def end_block(self, ctx: Context) -> None: ...

    def check_invariants(self, state: StateReader) -> list[str]: ...


class FeeLedger(Protocol):
    """What the vm needs from the bank: nonces and fee collection."""

    def get_nonce(self, state: StateReader, address: bytes) -> int: ...

    def get_balance(self, state: StateReader, address: bytes) -> int: ...

    def charge_fee(self, state: Overlay, address: bytes, fee: int, next_nonce: int) -> None:
        """Take ``fee`` from ``address`` into the fee pool and set its nonce.

        Raises InsufficientFunds (and writes nothing) when the balance is short.
        """
        ...


class Governance(Protocol):
    """Admin-quorum approval, provided by the accounts module."""

    def is_admin(self, state: StateReader, address: bytes) -> bool: ...

    def approve_action(
        self, state: Overlay, approver: bytes, action: list[Any], quorum: int
    ) -> tuple[bytes, int]:
        """Record an approval; return (action id, approvals so far)."""
        ...


class EvidenceKeeper(Protocol):
    """Records misbehaviour (equivocation) carried in a block."""

    def record_evidence(self, ctx: Context, evidence: bytes) -> None: ...


# Argument helpers: handlers use these so every bad argument is an InvalidArgs.


def expect_args(args: list[Any], count: int, usage: str) -> list[Any]:
    if len(args) != count:
        raise InvalidArgs(f"expected {count} arguments: {usage}")
    return args


def arg_address(value: Any, name: str) -> bytes:
    if type(value) is not bytes or len(value) != ADDRESS_LEN:
        raise InvalidArgs(f"{name} must be a 20-byte address")
    return value


def arg_amount(value: Any, name: str, *, allow_zero: bool = False) -> int:
    if type(value) is not int or value < 0 or (value == 0 and not allow_zero):
        raise InvalidArgs(f"{name} must be a {'non-negative' if allow_zero else 'positive'} "
                          "integer")
    return value


def arg_text(value: Any, name: str, max_len: int = 64) -> str:
    if type(value) is not str or not 0 < len(value) <= max_len:
        raise InvalidArgs(f"{name} must be text of 1..{max_len} characters")
    return value
