"""Genesis: schema, validation, state build, export -> import round trip, presets."""

from wattchain.genesis.build import build_genesis_state, export_genesis, genesis_app_hash_seed
from wattchain.genesis.schema import Genesis, GenesisError, load_genesis, save_genesis

__all__ = [
    "Genesis",
    "GenesisError",
    "load_genesis",
    "save_genesis",
    "build_genesis_state",
    "export_genesis",
    "genesis_app_hash_seed",
]
