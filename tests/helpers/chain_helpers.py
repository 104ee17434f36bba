"""Builders shared by the vm, genesis, module and node tests.

Plain functions over a small ``Chain`` record: a genesis built from
deterministic keys, an in-memory state, a helper that runs one block,
applies its writes and checks every module invariant afterwards, and
``assert_genesis_round_trip`` for the export -> import contract.
"""

from __future__ import annotations

import json
from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from typing import Any

from wattchain.crypto import PrivateKey, format_address
from wattchain.genesis import Genesis, build_genesis_state, export_genesis
from wattchain.genesis.presets import DEVNET_GENESIS_TIME_MS, devnet_genesis
from wattchain.modules import build_vm
from wattchain.types import SignedTx, Tx, sign_tx
from wattchain.vm.errors import TxError
from wattchain.vm.execution import VM, BlockInfo, BlockResult, TxResult
from wattchain.vm.params import ChainParams
from wattchain.vm.state import MemoryState

CHAIN_ID = "wattchain-test"
BLOCK_MS = 1_000
MIN_FEE = ChainParams().min_fee
FAUCET_BALANCE = 1_000_000_000


def key(index: int) -> PrivateKey:
    """A deterministic key; ``index`` 1..254 (0 and 0xff..ff are not valid secrets)."""
    return PrivateKey(bytes([index]) * 32)


VALIDATOR = key(1)
FAUCET = key(2)  # admin and issuer
ALICE = key(3)
BOB = key(4)
CAROL = key(5)
DAVE = key(6)


@dataclass
class Chain:
    vm: VM
    state: MemoryState
    genesis: Genesis
    app_hash: bytes
    genesis_app_hash: bytes
    height: int = 0
    time_ms: int = DEVNET_GENESIS_TIME_MS
    results: list[BlockResult] = field(default_factory=list)


def account_entry(holder: PrivateKey, balance: int, roles: Sequence[str] = ()) -> dict[str, Any]:
    return {"address": format_address(holder.address), "balance": balance, "nonce": 0,
            "roles": list(roles)}


def make_genesis(
    accounts: Sequence[dict[str, Any]] = (),
    *,
    chain_id: str = CHAIN_ID,
    params: dict[str, Any] | None = None,
) -> Genesis:
    """The devnet preset (faucet = admin + issuer) plus ``accounts``."""
    genesis = devnet_genesis(chain_id, [("v1", VALIDATOR.public_key, 10)], FAUCET.address)
    section = genesis.app_state["accounts"]
    section["accounts"][0]["balance"] = FAUCET_BALANCE
    section["accounts"].extend(accounts)
    genesis.params.update(params or {})
    return genesis


def default_accounts() -> list[dict[str, Any]]:
    return [account_entry(ALICE, 1_000), account_entry(BOB, 500), account_entry(CAROL, 5)]


def start_chain(genesis: Genesis, vm: VM | None = None) -> Chain:
    vm = vm or build_vm()
    writes, app_hash = build_genesis_state(vm, genesis)
    state = MemoryState()
    state.apply(dict(writes))
    assert vm.check_invariants(state) == []
    return Chain(vm, state, genesis, app_hash, app_hash, time_ms=genesis.genesis_time_ms)


def make_chain(
    accounts: Sequence[dict[str, Any]] | None = None,
    *,
    params: dict[str, Any] | None = None,
    vm: VM | None = None,
) -> Chain:
    """A chain at height 0: faucet, alice (1000), bob (500), carol (5) by default."""
    accounts = default_accounts() if accounts is None else accounts
    return start_chain(make_genesis(accounts, params=params), vm)


def make_tx(
    signer: PrivateKey,
    nonce: int,
    module: str,
    method: str,
    args: list[Any],
    *,
    fee: int = MIN_FEE,
    chain_id: str = CHAIN_ID,
    valid_until_height: int = 0,
    sender: bytes | None = None,
) -> SignedTx:
    """Sign a tx; ``sender`` defaults to the signer's address."""
    tx = Tx(chain_id, sender if sender is not None else signer.address, nonce, fee, module,
            method, args, valid_until_height)
    return sign_tx(tx, signer)


def transfer(signer: PrivateKey, nonce: int, recipient: PrivateKey | bytes, amount: int,
             **options: Any) -> SignedTx:
    """An ``accounts.transfer`` to a key's address or to a raw address."""
    address = recipient if isinstance(recipient, bytes) else recipient.address
    return make_tx(signer, nonce, "accounts", "transfer", [address, amount], **options)


def next_block_info(chain: Chain) -> BlockInfo:
    return BlockInfo(chain.genesis.chain_id, chain.height + 1, chain.time_ms + BLOCK_MS,
                     VALIDATOR.address)


def execute(chain: Chain, txs: Sequence[SignedTx | bytes],
            verified_ids: Container[bytes] = ()) -> BlockResult:
    """Execute the next block WITHOUT applying it (state stays as it was)."""
    return chain.vm.process_block(chain.state, next_block_info(chain), txs, chain.app_hash,
                                  verified_ids)


def run_block(chain: Chain, txs: Sequence[SignedTx | bytes],
              verified_ids: Container[bytes] = ()) -> BlockResult:
    """Execute and commit the next block; every invariant must hold afterwards."""
    result = execute(chain, txs, verified_ids)
    chain.state.apply(dict(result.writes))
    chain.height += 1
    chain.time_ms += BLOCK_MS
    chain.app_hash = result.app_hash
    chain.results.append(result)
    problems = chain.vm.check_invariants(chain.state)
    assert problems == [], problems
    return result


def send(chain: Chain, signer: PrivateKey, module: str, method: str, *args: Any) -> TxResult:
    """One tx at the signer's next nonce, in a block of its own; its result."""
    stx = make_tx(signer, nonce(chain, signer), module, method, list(args))
    (result,) = run_block(chain, [stx]).tx_results
    return result


def query(chain: Chain, path: str, **data: Any) -> Any:
    return chain.vm.query(chain.state, path, data)


def account(chain: Chain, holder: PrivateKey | bytes) -> dict[str, Any]:
    address = holder if isinstance(holder, bytes) else holder.address
    return query(chain, "accounts/account", address=format_address(address))


def balance(chain: Chain, holder: PrivateKey | bytes) -> int:
    return int(account(chain, holder)["balance"])


def nonce(chain: Chain, holder: PrivateKey | bytes) -> int:
    return int(account(chain, holder)["nonce"])


def supply(chain: Chain) -> dict[str, int]:
    return query(chain, "accounts/supply")


def snapshot(chain: Chain) -> dict[bytes, bytes]:
    return dict(chain.state.data)


@dataclass(frozen=True)
class ModuleTxs:
    """One-line txs and queries of one module, each tx in a block of its own.
    Its state is every key under ``state_prefix`` except ``skip_keys``."""

    module: str
    state_prefix: bytes
    skip_keys: frozenset[bytes] = frozenset()

    def send(self, chain: Chain, signer: PrivateKey, method: str, *args: Any) -> TxResult:
        return send(chain, signer, self.module, method, *args)

    def ok(self, chain: Chain, signer: PrivateKey, method: str, *args: Any) -> TxResult:
        """The tx succeeds; its result."""
        result = self.send(chain, signer, method, *args)
        assert result.ok, (result.codespace, result.code, result.log)
        return result

    def refused(self, chain: Chain, signer: PrivateKey, method: str, *args: Any,
                error: type[TxError]) -> str:
        """The tx fails with ``error`` and leaves the module's state untouched; its log."""
        before = self.state(chain)
        result = self.send(chain, signer, method, *args)
        assert (result.codespace, result.code) == (error.codespace, error.code), result.log
        assert self.state(chain) == before
        return result.log

    def query(self, chain: Chain, name: str, **data: Any) -> Any:
        return query(chain, f"{self.module}/{name}", **data)

    def state(self, chain: Chain) -> dict[bytes, bytes]:
        return {k: v for k, v in chain.state.data.items()
                if k.startswith(self.state_prefix) and k not in self.skip_keys}


def changed_keys(before: dict[bytes, bytes], after: dict[bytes, bytes]) -> set[bytes]:
    return {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}


# -- genesis export -> import --------------------------------------------------------


def export_chain(chain: Chain) -> Genesis:
    """The chain's state as a genesis document that starts at the next height."""
    return export_genesis(chain.vm, chain.state, chain.genesis.chain_id, chain.height,
                          chain.time_ms)


def import_state(genesis: Genesis) -> MemoryState:
    """The state a fresh vm builds from ``genesis``."""
    writes, _ = build_genesis_state(build_vm(), genesis)
    state = MemoryState()
    state.apply(dict(writes))
    return state


def assert_genesis_round_trip(chain: Chain) -> Genesis:
    """Export -> import reproduces the chain's state byte for byte, every invariant
    holds in it, and exporting the imported state (also after a trip through JSON
    text) gives the same document again. Returns the export."""
    exported = export_chain(chain)
    imported = import_state(exported)
    assert imported.data == chain.state.data
    assert build_vm().check_invariants(imported) == []
    through_json = Genesis.from_json(json.loads(json.dumps(exported.to_json())))
    assert through_json == exported
    again = export_genesis(build_vm(), import_state(through_json), exported.chain_id,
                           chain.height, chain.time_ms)
    assert again.to_json() == exported.to_json()
    return exported
