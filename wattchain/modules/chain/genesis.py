"""Genesis import and export of the chain module.

Section shape (the node's genesis builder adds ``params``, ``validators`` and
``initial_height`` from the genesis document)::

    {"params": {..ChainParams..}, "validators": [{"public_key", "power", "name"}],
     "validators_since": 1, "last_validators": [..],
     "pending": [{"effective_height", "updates": [..]}],
     "evidence": [{"hash", "validator", "height", "round", "vote_type", "recorded_at"}]}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wattchain.crypto import parse_address
from wattchain.modules.chain import keys
from wattchain.modules.chain.keeper import ChainKeeper
from wattchain.modules.chain.queries import evidence_view, pending_view
from wattchain.modules.chain.types import Validator
from wattchain.vm.params import ChainParams
from wattchain.vm.state import Overlay, StateReader


def init_genesis(keeper: ChainKeeper, state: Overlay, section: Mapping[str, Any]) -> None:
    params = ChainParams.from_json(dict(section.get("params", {})))
    problems = params.validate()
    if problems:
        raise ValueError("; ".join(problems))
    keeper.set_params(state, params)
    keeper.save_validators(state, [Validator.from_json(v) for v in section.get("validators", [])])
    keeper.set_validators_since(
        state, int(section.get("validators_since", section.get("initial_height", 1))))
    if section.get("last_validators"):
        keeper.save_validators(state, [Validator.from_json(v)
                                       for v in section["last_validators"]],
                               keys.LAST_VALIDATORS_KEY)
    for entry in section.get("pending", []):
        for update in entry["updates"]:
            keeper.add_pending_update(state, int(entry["effective_height"]),
                                      Validator(bytes.fromhex(update["public_key"]),
                                                int(update["power"]), str(update["name"])))
    for item in section.get("evidence", []):
        keeper.save_evidence(state, bytes.fromhex(item["hash"]), [
            parse_address(item["validator"]), item["height"], item["round"],
            item["vote_type"], item["recorded_at"]])


def export_genesis(keeper: ChainKeeper, state: StateReader) -> dict[str, Any]:
    return {
        "params": keeper.params(state).to_json(),
        "validators": [v.to_json() for v in keeper.validators(state)],
        "validators_since": keeper.validators_since(state),
        "last_validators": [v.to_json() for v in
                            keeper.validators(state, keys.LAST_VALIDATORS_KEY)],
        **pending_view(keeper, state),
        **evidence_view(keeper, state),
    }
