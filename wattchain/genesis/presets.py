"""Ready-made genesis documents."""

from __future__ import annotations

from wattchain.crypto import format_address
from wattchain.genesis.schema import Genesis
from wattchain.vm.params import ChainParams

DEVNET_FAUCET_BALANCE = 1_000_000_000_000_000  # 1e9 tokens of 1e6 micro-units
DEVNET_GENESIS_TIME_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def devnet_genesis(
    chain_id: str,
    validators: list[tuple[str, bytes, int]],
    faucet_address: bytes,
    genesis_time_ms: int = DEVNET_GENESIS_TIME_MS,
) -> Genesis:
    """A development chain: the faucet is admin and issuer with a large balance.

    ``validators`` holds (name, compressed public key, power) triples. Never
    use this preset for a consortium network: one key controls governance.
    """
    params = ChainParams(interval_ms=60_000)
    return Genesis(
        chain_id=chain_id,
        genesis_time_ms=genesis_time_ms,
        params=params.to_json(),
        validators=[
            {"name": name, "public_key": public_key.hex(), "power": power}
            for name, public_key, power in validators
        ],
        app_state={
            "accounts": {
                "accounts": [
                    {
                        "address": format_address(faucet_address),
                        "balance": DEVNET_FAUCET_BALANCE,
                        "nonce": 0,
                        "roles": ["admin", "issuer"],
                    }
                ],
                "fee_pool": 0,
                "proposals": [],
            }
        },
    )
