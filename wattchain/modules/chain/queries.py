"""Read-only queries of the chain module (abci_query paths ``chain/...``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wattchain.crypto import format_address
from wattchain.modules.chain.keeper import ChainKeeper, validators_hash
from wattchain.vm.state import StateReader


def pending_view(keeper: ChainKeeper, state: StateReader) -> dict[str, Any]:
    """Pending validator updates by the height they take effect (also exported)."""
    return {"pending": [{"effective_height": height,
                         "updates": [v.to_json() for v in updates]}
                        for height, updates in keeper.iterate_pending(state)]}


def evidence_view(keeper: ChainKeeper, state: StateReader) -> dict[str, Any]:
    """Every recorded equivocation (also exported)."""
    items = []
    for digest, (validator, height, round_, vote_type, recorded) in keeper.iterate_evidence(
            state):
        items.append({"hash": digest.hex(), "validator": format_address(validator),
                      "height": height, "round": round_, "vote_type": vote_type,
                      "recorded_at": recorded})
    return {"evidence": items}


class ChainQueries:
    def __init__(self, keeper: ChainKeeper) -> None:
        self.keeper = keeper

    def params(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        return self.keeper.params(state).to_json()

    def validators(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        validators = self.keeper.validators(state)
        return {"validators": [v.to_json() for v in validators],
                "total_power": sum(v.power for v in validators),
                "hash": validators_hash(validators).hex()}

    def pending_validators(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        return pending_view(self.keeper, state)

    def evidence(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        return evidence_view(self.keeper, state)
