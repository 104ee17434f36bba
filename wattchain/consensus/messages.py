"""Consensus messages: proposals, votes and equivocation evidence.

A proposal names its block by hash; the block itself travels beside it. Both
proposals and votes are signed over domain-separated bytes that include the
chain id, the height, the round, the message type and the block id, so a
signature can never be replayed in another place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wattchain import codec
from wattchain.crypto import ADDRESS_LEN, recover_signer, sign_bytes
from wattchain.errors import DecodeError, SignatureError, WattchainError
from wattchain.hashing import HASH_LEN, sha256
from wattchain.types import Vote

PROPOSAL_DOMAIN = b"wattchain/proposal/v1"
NIL = b""  # the block id of a nil vote


class InvalidMessage(WattchainError):
    """A consensus message that is malformed, badly signed or from a stranger."""

    codespace = "consensus"
    code = 60


@dataclass(slots=True)
class Proposal:
    height: int
    round: int
    block_hash: bytes
    pol_round: int  # the round of the polka that unlocks this value, or -1
    proposer: bytes
    signature: bytes = b""

    def sign_payload(self) -> bytes:
        return codec.encode([self.height, self.round, self.block_hash, self.pol_round + 1,
                             self.proposer])

    def sign_digest(self, chain_id: str) -> bytes:
        return sign_bytes(PROPOSAL_DOMAIN, chain_id, self.sign_payload())

    def to_list(self) -> list[Any]:
        return [self.height, self.round, self.block_hash, self.pol_round + 1, self.proposer,
                self.signature]

    def encode(self) -> bytes:
        return codec.encode(self.to_list())

    @classmethod
    def decode(cls, data: bytes) -> Proposal:
        return cls.from_list(codec.decode(data))

    @classmethod
    def from_list(cls, value: Any) -> Proposal:
        if type(value) is not list or len(value) != 6:
            raise DecodeError("proposal must be an array of 6 items")
        height, round_, block_hash, pol_plus_one, proposer, signature = value
        for number in (height, round_, pol_plus_one):
            if type(number) is not int or number < 0:
                raise DecodeError("proposal height, round and pol round must be integers")
        if type(block_hash) is not bytes or len(block_hash) != HASH_LEN:
            raise DecodeError("proposal block hash must be 32 bytes")
        if type(proposer) is not bytes or len(proposer) != ADDRESS_LEN:
            raise DecodeError("proposal proposer must be a 20-byte address")
        if type(signature) is not bytes:
            raise DecodeError("proposal signature must be bytes")
        if pol_plus_one > round_:
            raise DecodeError("proposal pol round must be below its round")
        return cls(height, round_, block_hash, pol_plus_one - 1, proposer, signature)


@dataclass(slots=True)
class Evidence:
    """Two conflicting votes of one validator for one height, round and type."""

    first: Vote
    second: Vote

    def to_list(self) -> list[Any]:
        first, second = sorted([self.first, self.second], key=lambda v: v.block_hash)
        return [first.to_list(), second.to_list()]

    def encode(self) -> bytes:
        return codec.encode(self.to_list())

    def hash(self) -> bytes:
        return sha256(self.encode())

    @property
    def validator(self) -> bytes:
        return self.first.validator

    @property
    def height(self) -> int:
        return self.first.height

    @classmethod
    def decode(cls, data: bytes) -> Evidence:
        value = codec.decode(data)
        if type(value) is not list or len(value) != 2:
            raise DecodeError("evidence must be an array of two votes")
        return cls(Vote.from_list(value[0]), Vote.from_list(value[1]))

    def check_shape(self) -> None:
        """Raise InvalidMessage unless the two votes really conflict."""
        a, b = self.first, self.second
        same_slot = (a.height, a.round, a.vote_type, a.validator) == (
            b.height, b.round, b.vote_type, b.validator)
        if not same_slot or a.block_hash == b.block_hash:
            raise InvalidMessage("evidence votes do not conflict")


def vote_signer(vote: Vote, chain_id: str) -> bytes:
    """The public key that signed ``vote`` (raises InvalidMessage)."""
    try:
        return recover_signer(vote.signature, vote.sign_digest(chain_id))
    except SignatureError as exc:
        raise InvalidMessage(f"bad vote signature: {exc.message}") from None


def proposal_signer(proposal: Proposal, chain_id: str) -> bytes:
    try:
        return recover_signer(proposal.signature, proposal.sign_digest(chain_id))
    except SignatureError as exc:
        raise InvalidMessage(f"bad proposal signature: {exc.message}") from None
