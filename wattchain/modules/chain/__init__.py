"""The chain module: protocol parameters, the validator set and its
governance, and the record of validator misbehaviour.

* ``set_validator [public_key, power, name]`` (admin, quorum): add a
  validator, change its power, or remove it (power 0). The change takes
  effect two heights after the block that passes it.
* Evidence of equivocation carried in a block is verified and recorded;
  governance can then reduce or remove the offender with set_validator.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from msgpack import packb

from wattchain import codec
from wattchain.crypto import PUBLIC_KEY_LEN, format_address, parse_address
from wattchain.modules.chain import keys
from wattchain.modules.chain.errors import EmptyValidatorSet, NotAdmin, UnknownValidator
from wattchain.modules.chain.evidence import evidence_hash, verify_evidence
from wattchain.modules.chain.keeper import (
    Validator,
    add_pending_update,
    apply_updates,
    iterate_pending,
    load_validators,
    save_validators,
    validators_hash,
    validators_since,
)
from wattchain.vm.errors import InvalidArgs
from wattchain.vm.interface import (
    Context,
    Governance,
    Handler,
    Query,
    arg_amount,
    arg_text,
    expect_args,
)
from wattchain.vm.params import PARAMS_KEY, ChainParams, encode_params, load_params
from wattchain.vm.state import Overlay, StateReader

__all__ = ["ChainModule", "Validator", "load_validators", "validators_hash"]

MAX_VALIDATOR_POWER = 1 << 40


class ChainModule:
    name = "chain"

    def __init__(self, governance: Governance) -> None:
        self.governance = governance
        self.handlers: Mapping[str, Handler] = {"set_validator": self.set_validator}
        self.queries: Mapping[str, Query] = {
            "params": self.query_params,
            "validators": self.query_validators,
            "pending_validators": self.query_pending,
            "evidence": self.query_evidence,
        }

    # -- handlers ---------------------------------------------------------------

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
        current = load_validators(ctx.state)
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
        add_pending_update(ctx.state, effective, update)
        ctx.emit("validator_update", {"validator": update.address, "power": power,
                                      "effective_height": effective})

    # -- block hooks ------------------------------------------------------------

    def end_block(self, ctx: Context) -> None:
        """Apply the updates that take effect at the next height."""
        next_height = ctx.height + 1
        for height, updates in list(iterate_pending(ctx.state)):
            if height > next_height:
                break
            previous = load_validators(ctx.state)
            validators = apply_updates(previous, updates)
            if validators:  # an update that would empty the set is dropped
                save_validators(ctx.state, validators)
                save_validators(ctx.state, previous, keys.LAST_VALIDATORS_KEY)
                ctx.state.set(keys.VALIDATORS_SINCE_KEY, packb(next_height))
            ctx.state.delete(keys.pending_key(height))
            ctx.emit("validator_set", {"height": next_height,
                                       "hash": validators_hash(validators).hex()})

    def record_evidence(self, ctx: Context, raw: bytes) -> None:
        """Verify and record equivocation evidence; a duplicate is ignored."""
        first, _ = verify_evidence(raw, ctx.chain_id, load_validators(ctx.state))
        key = keys.evidence_key(evidence_hash(raw))
        if ctx.state.get(key) is not None:
            return
        ctx.state.set(key, codec.encode([first.validator, first.height, first.round,
                                         first.vote_type, ctx.height]))
        ctx.emit("equivocation", {"validator": first.validator, "height": first.height,
                                  "round": first.round, "recorded_at": ctx.height})

    # -- genesis ------------------------------------------------------------------

    def init_genesis(self, state: Overlay, section: Mapping[str, Any]) -> None:
        params = ChainParams.from_json(dict(section.get("params", {})))
        problems = params.validate()
        if problems:
            raise ValueError("; ".join(problems))
        state.set(PARAMS_KEY, encode_params(params))
        save_validators(state, [Validator.from_json(v) for v in section.get("validators", [])])
        since = section.get("validators_since", section.get("initial_height", 1))
        state.set(keys.VALIDATORS_SINCE_KEY, packb(int(since)))
        if section.get("last_validators"):
            save_validators(state, [Validator.from_json(v) for v in section["last_validators"]],
                            keys.LAST_VALIDATORS_KEY)
        for entry in section.get("pending", []):
            for update in entry["updates"]:
                add_pending_update(state, int(entry["effective_height"]),
                                   Validator(bytes.fromhex(update["public_key"]),
                                             int(update["power"]), str(update["name"])))
        for item in section.get("evidence", []):
            state.set(keys.EVIDENCE_PREFIX + bytes.fromhex(item["hash"]), codec.encode(
                [parse_address(item["validator"]), item["height"], item["round"],
                 item["vote_type"], item["recorded_at"]]))

    def export_genesis(self, state: StateReader) -> dict[str, Any]:
        return {
            "params": load_params(state).to_json(),
            "validators": [v.to_json() for v in load_validators(state)],
            "validators_since": validators_since(state),
            "last_validators": [v.to_json() for v in
                                load_validators(state, keys.LAST_VALIDATORS_KEY)],
            **self.query_pending(state, {}),
            **self.query_evidence(state, {}),
        }

    def check_invariants(self, state: StateReader) -> list[str]:
        if not load_validators(state):
            return ["chain: the validator set is empty"]
        return []

    # -- queries --------------------------------------------------------------------

    def query_params(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        return load_params(state).to_json()

    def query_validators(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        validators = load_validators(state)
        return {"validators": [v.to_json() for v in validators],
                "total_power": sum(v.power for v in validators),
                "hash": validators_hash(validators).hex()}

    def query_pending(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        return {"pending": [{"effective_height": height,
                             "updates": [v.to_json() for v in updates]}
                            for height, updates in iterate_pending(state)]}

    def query_evidence(self, state: StateReader, data: Mapping[str, Any]) -> dict[str, Any]:
        items = []
        for key, raw in state.iterate(keys.EVIDENCE_PREFIX):
            validator, height, round_, vote_type, recorded = codec.decode(raw)
            items.append({"hash": key[len(keys.EVIDENCE_PREFIX):].hex(),
                           "validator": format_address(validator), "height": height,
                           "round": round_, "vote_type": vote_type, "recorded_at": recorded})
        return {"evidence": items}
