"""Native modules of the chain. ``build_vm`` wires the set a node runs."""

from __future__ import annotations

from wattchain.modules.accounts import AccountsModule
from wattchain.modules.balancing import BalancingModule
from wattchain.modules.chain import ChainModule
from wattchain.modules.metering import MeteringModule
from wattchain.modules.oracle import OracleModule
from wattchain.modules.registration import RegistrationModule
from wattchain.modules.trading import TradingModule
from wattchain.vm.execution import VM


def build_vm() -> VM:
    """The vm with every module of this release, in end_block order."""
    accounts = AccountsModule()
    chain = ChainModule(governance=accounts.keeper)
    registration = RegistrationModule(roles=accounts.keeper)
    metering = MeteringModule(roles=accounts.keeper, registry=registration.keeper)
    trading = TradingModule(bank=accounts.keeper, registry=registration.keeper,
                            energy=metering.energy, roles=accounts.keeper)
    metering.attach_trades(trading.history)  # bills' peer-to-peer lines
    oracle = OracleModule(roles=accounts.keeper)
    balancing = BalancingModule(energy=metering.energy, registry=registration.keeper,
                                feeds=oracle.feeds, market=trading.keeper, bank=accounts.keeper,
                                roles=accounts.keeper)
    # balancing reads oracle values written by txs, not by oracle's end_block (a no-op),
    # so it may run before oracle; tests/modules/test_oracle.py expects oracle last.
    return VM([chain, accounts, registration, metering, trading, balancing, oracle],
              ledger=accounts.keeper, evidence_keeper=chain)
