"""The published emergency rules: a zone's emergency state machine and what
an emergency does to its market.

States of a zone: *normal* (no emergency) or *in emergency* (kind,
severity 1..3, expiry, declared by its DSO or automatically). Transitions,
each written to the zone's log with the block height and time:

=================  ==================================  ==========  ===============
from               input                               to          log action
=================  ==================================  ==========  ===============
normal             DSO declares                        emergency   ``declared``
emergency          DSO declares (kind, severity,       emergency   ``updated``
                   expiry replaced; now the DSO's)
emergency          DSO all-clear                       normal      ``cleared``
emergency          block time reaches the expiry       normal      ``expired``
normal             fresh frequency outside the band    emergency   ``declared``
automatic one      frequency outside, another          emergency   ``updated``
                   kind or severity
automatic one      fresh frequency back in the band    normal      ``cleared``
=================  ==================================  ==========  ===============

A DSO's emergency ignores the frequency feed: only its DSO or the expiry
ends it. Frequency below the band is a shortage, above it an overload; the
severity grows with the distance from the band: under 200 mHz 1, under
500 mHz 2, else 3.

Effects while in emergency (``dispatch`` applies the dispatch ones):

* market: severity 1 caps prices at the DSO's imbalance ceiling (or the
  ``emergency_cap`` parameter without bounds); severity 2 and 3 suspend it;
* storage reserves are released in a shortage or islanding;
* after flexibility, neighbours share over their links, then loads are shed
  (shortage, islanding: highest priority class first, critical loads only at
  severity 3) or generation curtailed (overload, islanding when long).
"""

from __future__ import annotations

from dataclasses import dataclass

from wattchain.modules.balancing.types import (
    ISLANDING,
    MARKET_CAPPED,
    MARKET_OPEN,
    MARKET_SUSPENDED,
    OVERLOAD,
    SHORTAGE,
    BalancingParams,
    Emergency,
)

DECLARED = "declared"
UPDATED = "updated"
CLEARED = "cleared"
EXPIRED = "expired"


@dataclass(frozen=True)
class Transition:
    """The next state (None: normal) and the log action and reason of one step."""

    emergency: Emergency | None
    action: str
    reason: str


def declare(current: Emergency | None, kind: str, severity: int, now_ms: int, expiry_ms: int,
            dso: bytes) -> Transition:
    """The DSO declares (or revises) an emergency."""
    action = DECLARED if current is None else UPDATED
    declared_ms = now_ms if current is None else current.declared_ms
    return Transition(Emergency(kind, severity, declared_ms, expiry_ms, dso), action,
                      "declared by the DSO")


def expire(current: Emergency | None, now_ms: int) -> Transition | None:
    if current is None or now_ms < current.expiry_ms:
        return None
    return Transition(None, EXPIRED, "expiry reached")


def frequency_condition(frequency_mhz: int, params: BalancingParams) -> tuple[str, int] | None:
    """(kind, severity) of a frequency outside the band, None inside it."""
    if frequency_mhz < params.frequency_low_mhz:
        kind, distance = SHORTAGE, params.frequency_low_mhz - frequency_mhz
    elif frequency_mhz > params.frequency_high_mhz:
        kind, distance = OVERLOAD, frequency_mhz - params.frequency_high_mhz
    else:
        return None
    severity = 1 if distance < 200 else 2 if distance < 500 else 3
    return kind, severity


def follow_frequency(current: Emergency | None, frequency_mhz: int | None, now_ms: int,
                     params: BalancingParams) -> Transition | None:
    """The automatic step for one fresh frequency value (None: no fresh value)."""
    if frequency_mhz is None or (current is not None and not current.automatic):
        return None
    condition = frequency_condition(frequency_mhz, params)
    reason = f"grid frequency {frequency_mhz} mHz"
    if condition is None:
        return None if current is None else Transition(None, CLEARED, reason)
    kind, severity = condition
    expiry = now_ms + params.auto_emergency_ms
    if current is None:
        return Transition(Emergency(kind, severity, now_ms, expiry, b""), DECLARED, reason)
    if (current.kind, current.severity) == (kind, severity):
        return None  # unchanged: the expiry stays, so a stuck feed cannot hold it forever
    return Transition(Emergency(kind, severity, current.declared_ms, expiry, b""), UPDATED,
                      reason)


def market_effect(emergency: Emergency | None, bounds: tuple[int, int] | None,
                  params: BalancingParams) -> tuple[int, int]:
    """(trading restriction mode, price cap) of a zone's market."""
    if emergency is None:
        return MARKET_OPEN, 0
    if emergency.severity >= 2:
        return MARKET_SUSPENDED, 0
    return MARKET_CAPPED, params.emergency_cap if bounds is None else bounds[1]


def releases_reserve(emergency: Emergency | None) -> bool:
    return emergency is not None and emergency.kind in (SHORTAGE, ISLANDING)


def sheds_load(emergency: Emergency | None) -> bool:
    return emergency is not None and emergency.kind in (SHORTAGE, ISLANDING)


def curtails_generation(emergency: Emergency | None) -> bool:
    return emergency is not None and emergency.kind in (OVERLOAD, ISLANDING)
