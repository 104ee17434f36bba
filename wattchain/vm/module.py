"""The one skeleton every native module follows (cosmos-sdk's ``AppModule``).

A module package holds ``keeper.py`` (state reads and writes), ``handlers.py``
(one method per tx method), ``queries.py``, ``genesis.py`` (``init_genesis``
and ``export_genesis`` of the keeper), ``invariants.py`` (``check_all`` of
the keeper), ``errors.py``, ``keys.py``, ``types.py`` and ``expected.py``
(the Protocols it needs from other modules). Its ``__init__`` only declares
the module: a ``BaseModule`` given the keeper, the genesis and invariants
modules and the handler and query tables. ``BaseModule`` does the
delegation the vm's ``Module`` Protocol asks for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, Protocol, TypeVar

from wattchain.vm.interface import Context, Handler, Query
from wattchain.vm.state import Overlay, StateReader

KeeperT = TypeVar("KeeperT")
KeeperT_contra = TypeVar("KeeperT_contra", contravariant=True)


class GenesisFunctions(Protocol[KeeperT_contra]):
    """A module's ``genesis.py``."""

    def init_genesis(self, keeper: KeeperT_contra, state: Overlay,
                     section: Mapping[str, Any]) -> None:
        """Write the section into empty state; raise ValueError (or a
        WattchainError) naming the bad field."""
        ...

    def export_genesis(self, keeper: KeeperT_contra, state: StateReader) -> dict[str, Any]:
        """The section that ``init_genesis`` turns back into exactly this state."""
        ...


class InvariantFunctions(Protocol[KeeperT_contra]):
    """A module's ``invariants.py``."""

    def check_all(self, keeper: KeeperT_contra, state: StateReader) -> list[str]:
        """Every broken invariant, described; [] when all hold."""
        ...


def methods_of(owner: object, *names: str) -> dict[str, Any]:
    """``{name: owner.name}``: a handler or query table whose keys (the tx method
    or query path) are the names of the methods that serve them."""
    return {name: getattr(owner, name) for name in names}


class BaseModule(Generic[KeeperT]):
    """A module made of its keeper, tables, genesis and invariants.

    Subclasses set ``name`` and call ``__init__``; one that acts at the end of
    a block overrides ``end_block`` (the default does nothing).
    """

    name: str

    def __init__(self, keeper: KeeperT, genesis: GenesisFunctions[KeeperT],
                 invariants: InvariantFunctions[KeeperT], *,
                 handlers: Mapping[str, Handler], queries: Mapping[str, Query]) -> None:
        self.keeper = keeper
        self.genesis = genesis
        self.invariants = invariants
        self.handlers = handlers
        self.queries = queries

    def init_genesis(self, state: Overlay, section: Mapping[str, Any]) -> None:
        self.genesis.init_genesis(self.keeper, state, section)

    def export_genesis(self, state: StateReader) -> dict[str, Any]:
        return self.genesis.export_genesis(self.keeper, state)

    def end_block(self, ctx: Context) -> None:
        return None

    def check_invariants(self, state: StateReader) -> list[str]:
        return self.invariants.check_all(self.keeper, state)
