"""The tx method and the block hooks of the chain module.

* ``set_validator [public_key, power, name]`` (admin, quorum): add a
  validator, change its power, or remove it (power 0). The change takes
  effect two heights after the block that passes it (``keys.EFFECTIVE_DELAY``).
* ``apply_due_updates`` (end_block): the updates that take effect at the next
  height replace the validator set, unless they would empty it.
* ``record_evidence``: equivocation evidence carried in a block is verified
  and recorded once; governance can then reduce or remove the offender.
"""

from __future__ import annotations

from typing import Any

from wattchain.crypto import PUBLIC_KEY_LEN
from wattchain.modules.chain import keys
from wattchain.modules.chain.errors import EmptyValidatorSet, NotAdmin, UnknownValidator
from wattchain.modules.chain.evidence import evidence_hash, verify_evidence
from wattchain.modules.chain.expected import Governance
from wattchain.modules.chain.keeper import ChainKeeper, apply_updates, validators_hash
from wattchain.modules.chain.types import MAX_VALIDATOR_POWER, Validator
from wattchain.vm.errors import InvalidArgs
from wattchain.vm.fields import arg_amount, arg_text, expect_args
from wattchain.vm.interface import Context


class ChainHandlers:
    def __init__(self, keeper: ChainKeeper, governance: Governance) -> None:
        self.keeper = keeper
        self.governance = governance

    def set_validator(self, ctx: Context, args: list[Any]) -> None:
        key_raw, power_raw, name_raw = expect_args(args, 3, "public key, power, name")
        if not self.governance.is_admin(ctx.state, ctx.sender):
            raise NotAdmin("set_validator needs the 'admin' role")
        if type(key_raw) is not bytes or len(key_raw) != PUBLIC_KEY_LEN or key_raw[0] not in (2, 3):
            raise InvalidArgs("public key must be a 33-byte compressed secp256k1 key")
        power = arg_amount(power_raw, "power", allow_zero=True)
        if power > MAX_VALIDATOR_POWER:
            raise InvalidArgs(f"power must be at most {MAX_VALIDATOR_POWER}")
        name = arg_text(name_raw, "name") if name_raw != "" else ""
        update = Validator(key_raw, power, name)
        current = self.keeper.validators(ctx.state)
        if power == 0 and all(v.public_key != key_raw for v in current):
            raise UnknownValidator("no validator with that public key to remove")
        if not apply_updates(current, [update]):
            raise EmptyValidatorSet("the validator set may not become empty")
        action = ["set_validator", key_raw, power, name]
        action_id, approvals = self.governance.approve_action(
            ctx.state, ctx.sender, action, ctx.params.admin_quorum)
        ctx.emit("approval", {"action": "0x" + action_id.hex(), "approver": ctx.sender,
                              "approvals": approvals, "quorum": ctx.params.admin_quorum})
        if approvals < ctx.params.admin_quorum:
            return
        effective = ctx.height + keys.EFFECTIVE_DELAY
        self.keeper.add_pending_update(ctx.state, effective, update)
        ctx.emit("validator_update", {"validator": update.address, "power": power,
                                      "effective_height": effective})

    def apply_due_updates(self, ctx: Context) -> None:
        """Apply the updates that take effect at the next height."""
        next_height = ctx.height + 1
        for height, updates in list(self.keeper.iterate_pending(ctx.state)):
            if height > next_height:
                break
            previous = self.keeper.validators(ctx.state)
            validators = apply_updates(previous, updates)
            if validators:  # an update that would empty the set is dropped
                self.keeper.save_validators(ctx.state, validators)
                self.keeper.save_validators(ctx.state, previous, keys.LAST_VALIDATORS_KEY)
                self.keeper.set_validators_since(ctx.state, next_height)
            self.keeper.delete_pending(ctx.state, height)
            ctx.emit("validator_set", {"height": next_height,
                                       "hash": validators_hash(validators).hex()})

    def record_evidence(self, ctx: Context, raw: bytes) -> None:
        """Verify and record equivocation evidence; a duplicate is ignored."""
        first, _ = verify_evidence(raw, ctx.chain_id, self.keeper.validators(ctx.state))
        digest = evidence_hash(raw)
        if self.keeper.has_evidence(ctx.state, digest):
            return
        self.keeper.save_evidence(ctx.state, digest, [first.validator, first.height, first.round,
                                                      first.vote_type, ctx.height])
        ctx.emit("equivocation", {"validator": first.validator, "height": first.height,
                                  "round": first.round, "recorded_at": ctx.height})
