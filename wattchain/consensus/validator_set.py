"""Validator sets: voting power, quorum thresholds and proposer rotation.

Thresholds use exact integer arithmetic: a quorum is *more than* two thirds
of the total power (2f + 1 of 3f + 1), "one third" is *more than* a third
(f + 1). The proposer rotation is CometBFT's weighted round robin: every
step each validator's priority grows by its power, the highest priority
proposes (ties: lower address) and pays back the total power. Over
``total_power`` steps each validator proposes exactly ``power`` times.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from wattchain import codec
from wattchain.crypto import address_of
from wattchain.hashing import sha256


@dataclass(frozen=True, slots=True)
class ValidatorInfo:
    public_key: bytes
    power: int
    name: str = ""

    @property
    def address(self) -> bytes:
        return address_of(self.public_key)


class ValidatorSet:
    def __init__(self, validators: Iterable[ValidatorInfo]) -> None:
        members = sorted(validators, key=lambda v: v.address)
        if not members:
            raise ValueError("a validator set needs at least one validator")
        if any(v.power <= 0 for v in members):
            raise ValueError("validator power must be positive")
        self.validators: tuple[ValidatorInfo, ...] = tuple(members)
        self.by_address = {v.address: v for v in members}
        if len(self.by_address) != len(members):
            raise ValueError("duplicate validator")
        self.total_power = sum(v.power for v in members)
        self.addresses = [v.address for v in members]
        self._priorities: list[list[int]] = [[0] * len(members)]
        self._chosen: list[int] = []

    def __len__(self) -> int:
        return len(self.validators)

    def power_of(self, address: bytes) -> int:
        validator = self.by_address.get(address)
        return 0 if validator is None else validator.power

    def has_quorum(self, power: int) -> bool:
        """More than 2/3 of the total power (2f + 1)."""
        return power * 3 > self.total_power * 2

    def has_one_third(self, power: int) -> bool:
        """More than 1/3 of the total power (f + 1): at least one honest member."""
        return power * 3 > self.total_power

    def hash(self) -> bytes:
        return sha256(codec.encode([[v.public_key, v.power] for v in self.validators]))

    def proposer_at_step(self, step: int) -> bytes:
        """The proposer of rotation step ``step`` (0-based), computed incrementally."""
        while len(self._chosen) <= step:
            self._advance()
        return self.addresses[self._chosen[step]]

    def _advance(self) -> None:
        priorities = [p + v.power for p, v in zip(self._priorities[-1], self.validators,
                                                   strict=True)]
        best = max(range(len(priorities)), key=lambda i: (priorities[i], -i))
        priorities[best] -= self.total_power
        self._priorities.append(priorities)
        self._chosen.append(best)
        if len(self._priorities) > 2:
            self._priorities = self._priorities[-1:]


class ProposerSchedule:
    """Who proposes at (height, round) for a set in force since ``start_height``.

    Height ``start_height`` round 0 is rotation step 0; each later height and
    each extra round moves one step: step = (height - start_height) + round.
    """

    def __init__(self, validator_set: ValidatorSet, start_height: int) -> None:
        self.validator_set = validator_set
        self.start_height = start_height

    def proposer(self, height: int, round_: int) -> bytes:
        if height < self.start_height or round_ < 0:
            raise ValueError("height before the set took effect, or a negative round")
        return self.validator_set.proposer_at_step(height - self.start_height + round_)


def weighted_median(values: Sequence[tuple[int, int]], total_power: int) -> int:
    """The value at which the cumulative power first exceeds half of ``total_power``.

    ``values`` holds (value, power) pairs. With more than 2/3 of the power
    honest, the result lies between honest values: no faulty minority can
    move it outside them.
    """
    if not values:
        raise ValueError("no values to take a median of")
    accumulated = 0
    for value, power in sorted(values):
        accumulated += power
        if accumulated * 2 > total_power:
            return value
    return sorted(values)[-1][0]
