"""Equivocation evidence: two signed votes of one validator that conflict.

The encoding is the consensus layer's ``Evidence``: ``[vote, vote]`` in
canonical msgpack, ordered by block hash. The check here is independent of
the consensus package (modules may not import it) and fully deterministic.
"""

from __future__ import annotations

from wattchain import codec
from wattchain.crypto import recover_signer
from wattchain.errors import DecodeError, SignatureError
from wattchain.hashing import sha256
from wattchain.modules.chain.errors import InvalidEvidence
from wattchain.modules.chain.types import Validator
from wattchain.types import Vote


def verify_evidence(raw: bytes, chain_id: str, validators: list[Validator]) -> tuple[Vote, Vote]:
    """Return the two conflicting votes, or raise InvalidEvidence."""
    try:
        items = codec.decode(raw)
        if type(items) is not list or len(items) != 2:
            raise DecodeError("evidence must hold two votes")
        first, second = Vote.from_list(items[0]), Vote.from_list(items[1])
    except DecodeError as exc:
        raise InvalidEvidence(f"malformed evidence: {exc.message}") from None
    same_slot = (first.height, first.round, first.vote_type, first.validator) == (
        second.height, second.round, second.vote_type, second.validator)
    if not same_slot or first.block_hash == second.block_hash:
        raise InvalidEvidence("the two votes do not conflict")
    by_address = {v.address: v for v in validators}
    validator = by_address.get(first.validator)
    if validator is None:
        raise InvalidEvidence("the offender is not in the validator set")
    for vote in (first, second):
        try:
            signer = recover_signer(vote.signature, vote.sign_digest(chain_id))
        except SignatureError as exc:
            raise InvalidEvidence(f"bad vote signature: {exc.message}") from None
        if signer != validator.public_key:
            raise InvalidEvidence("a vote was not signed by the offender")
    return first, second


def evidence_hash(raw: bytes) -> bytes:
    return sha256(raw)
