"""The chain module: protocol parameters, the validator set and its
governance, and the record of validator misbehaviour (``handlers``).

It is also the vm's ``EvidenceKeeper``: evidence carried in a block is
recorded through ``record_evidence``.
"""

from __future__ import annotations

from wattchain.modules.chain import genesis, invariants
from wattchain.modules.chain.expected import Governance
from wattchain.modules.chain.handlers import ChainHandlers
from wattchain.modules.chain.keeper import ChainKeeper, load_validators, validators_hash
from wattchain.modules.chain.queries import ChainQueries
from wattchain.modules.chain.types import Validator
from wattchain.vm.interface import Context
from wattchain.vm.module import BaseModule, methods_of

__all__ = ["ChainModule", "Validator", "load_validators", "validators_hash"]


class ChainModule(BaseModule[ChainKeeper]):
    name = "chain"

    def __init__(self, governance: Governance) -> None:
        keeper = ChainKeeper()
        self.chain_handlers = ChainHandlers(keeper, governance)
        super().__init__(
            keeper, genesis, invariants,
            handlers=methods_of(self.chain_handlers, "set_validator"),
            queries=methods_of(ChainQueries(keeper), "params", "validators",
                               "pending_validators", "evidence"))

    def end_block(self, ctx: Context) -> None:
        self.chain_handlers.apply_due_updates(ctx)

    def record_evidence(self, ctx: Context, raw: bytes) -> None:
        self.chain_handlers.record_evidence(ctx, raw)
