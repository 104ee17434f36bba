"""Turn a genesis document into state, and state back into a genesis document."""

from __future__ import annotations

from typing import Any

from wattchain.genesis.schema import Genesis, GenesisError
from wattchain.hashing import sha256
from wattchain.vm.execution import VM, compute_app_hash
from wattchain.vm.state import MemoryState, Overlay, StateReader


def genesis_app_hash_seed(chain_id: str) -> bytes:
    """The 'previous app hash' that the genesis write set is chained onto."""
    return sha256(b"wattchain/genesis/v1" + chain_id.encode())


def build_genesis_state(
    vm: VM, genesis: Genesis
) -> tuple[list[tuple[bytes, bytes | None]], bytes]:
    """Run every module's init_genesis; return (sorted writes, genesis app hash)."""
    problems = genesis.validate()  # a Genesis built in code has not met from_json
    if problems:
        raise GenesisError("invalid genesis: " + "; ".join(problems))
    known = {module.name for module in vm.modules}
    unknown = sorted(set(genesis.app_state) - known)
    if unknown:
        raise GenesisError(f"app_state has sections for unknown modules: {', '.join(unknown)}")
    state = Overlay(MemoryState())
    for module in vm.modules:
        if module.name == "chain":
            section: dict[str, Any] = {**genesis.app_state.get("chain", {}),
                                       "params": genesis.params,
                                       "validators": genesis.validators,
                                       "initial_height": genesis.initial_height}
        else:
            section = genesis.app_state.get(module.name, {})
        try:
            module.init_genesis(state, section)
        except (ValueError, TypeError, KeyError) as exc:
            raise GenesisError(f"app_state.{module.name}: {exc}") from None
    writes = state.sorted_writes()
    return writes, compute_app_hash(genesis_app_hash_seed(genesis.chain_id), writes)


def export_genesis(
    vm: VM, state: StateReader, chain_id: str, height: int, time_ms: int
) -> Genesis:
    """A genesis that starts a new chain at ``height + 1`` from this state."""
    app_state: dict[str, Any] = {}
    chain_section: dict[str, Any] = {}
    for module in vm.modules:
        if module.name == "chain":
            chain_section = module.export_genesis(state)
            app_state["chain"] = {key: value for key, value in chain_section.items()
                                  if key not in ("params", "validators")}
        else:
            app_state[module.name] = module.export_genesis(state)
    return Genesis(
        chain_id=chain_id,
        genesis_time_ms=time_ms,
        initial_height=height + 1,
        params=chain_section["params"],
        validators=chain_section["validators"],
        app_state=app_state,
    )
