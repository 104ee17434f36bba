"""Invariants of the chain module, checked in tests after every block."""

from __future__ import annotations

from wattchain.modules.chain.keeper import ChainKeeper
from wattchain.vm.state import StateReader


def check_all(keeper: ChainKeeper, state: StateReader) -> list[str]:
    """The validator set is never empty."""
    if not keeper.validators(state):
        return ["chain: the validator set is empty"]
    return []
