"""What the vm and the modules share: the execution context, the module shape
the vm runs, and what the vm and the modules ask of the accounts module.

A module is a name, a table of tx handlers, a table of queries, genesis
import/export, an end_block hook and invariants (``Module``; every native
module is a ``vm.module.BaseModule``). Handlers read and write state only
through ``ctx.state`` and report what they did with ``ctx.emit``; they parse
their arguments with ``vm.fields``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from wattchain.types import Event
from wattchain.vm.errors import MissingRole
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


class EvidenceKeeper(Protocol):
    """Records misbehaviour (equivocation) carried in a block."""

    def record_evidence(self, ctx: Context, evidence: bytes) -> None: ...


class RoleHolder(Protocol):
    def has_role(self, role: str) -> bool: ...


class RoleChecker(Protocol):
    """Who holds which role: the accounts keeper, passed to every module that
    checks roles."""

    def get_account(self, state: StateReader, address: bytes) -> RoleHolder: ...


def require_role(roles: RoleChecker, ctx: Context, role: str, error: type[MissingRole],
                 message: str | None = None) -> None:
    """Raise ``error`` (the module's MissingRole) unless the sender holds ``role``."""
    if not roles.get_account(ctx.state, ctx.sender).has_role(role):
        raise error(message or f"this action needs the {role!r} role")


def operates_zone(roles: RoleChecker, state: StateReader, sender: bytes,
                  operator: bytes | None) -> bool:
    """Whether ``sender`` is a zone's ``operator`` (None: no such zone) and still
    holds the dso role: a DSO whose role was revoked governs no zone."""
    return (operator is not None and operator == sender
            and roles.get_account(state, sender).has_role("dso"))
