"""The asset lifecycle: every legal status change and who may make it.

::

    (add_asset) -> submitted --attest--> attested --approve--> active
    active --suspend--> suspended --reinstate--> active
    submitted | attested | active | suspended --revoke--> revoked (final)
    attested | active | suspended --resubmit--> submitted
        (update_asset changed the capacity or the equipment specs)

* attest: an account with the certifier role that does not own the asset,
  naming the asset's current revision and the hash of its evidence.
* approve: the DSO operating the asset's zone (and holding the dso role),
  naming the current revision, when the zone's connected capacity plus this
  asset's stays within the zone's hosting capacity.
* suspend, reinstate, revoke, resubmit: see ``WHO_MAY``.

An asset counts against its zone's hosting capacity while it is active or
suspended (``types.CONNECTED``): a suspension does not disconnect it, so a
reinstatement needs no capacity check. This file is pure: the handlers
gather the facts (``labels``) and carry out the result.
"""

from __future__ import annotations

from wattchain.modules.registration.errors import InvalidTransition, NotAuthorized
from wattchain.modules.registration.types import (
    ACTIVE,
    ATTESTED,
    REVOKED,
    SUBMITTED,
    SUSPENDED,
)

TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "attest": (frozenset({SUBMITTED}), ATTESTED),
    "approve": (frozenset({ATTESTED}), ACTIVE),
    "suspend": (frozenset({ACTIVE}), SUSPENDED),
    "reinstate": (frozenset({SUSPENDED}), ACTIVE),
    "revoke": (frozenset({SUBMITTED, ATTESTED, ACTIVE, SUSPENDED}), REVOKED),
    "resubmit": (frozenset({ATTESTED, ACTIVE, SUSPENDED}), SUBMITTED),
}

# Labels an account may carry with respect to one asset:
#   owner                -- owns the asset
#   admin                -- holds the admin role
#   zone operator        -- holds the dso role and operates the asset's zone
#   attesting certifier  -- holds the certifier role and attested the asset
#   suspender            -- made the suspension now in force
WHO_MAY: dict[str, tuple[str, ...]] = {
    "suspend": ("zone operator", "attesting certifier", "admin"),
    "reinstate": ("suspender", "admin"),
    "revoke": ("owner", "zone operator", "attesting certifier", "admin"),
    "resubmit": ("owner",),
}

# Statuses in which an asset has been verified and may carry certifications.
CERTIFIABLE = frozenset({ATTESTED, ACTIVE, SUSPENDED})


def next_status(action: str, status: str) -> str:
    """The status ``action`` moves an asset in ``status`` to, or InvalidTransition."""
    allowed, target = TRANSITIONS[action]
    if status not in allowed:
        raise InvalidTransition(f"cannot {action} an asset that is {status}; "
                                f"{action} applies to {' or '.join(sorted(allowed))} assets")
    return target


def authorize(action: str, labels: frozenset[str]) -> None:
    """Raise NotAuthorized unless one of ``labels`` may take ``action``."""
    allowed = WHO_MAY[action]
    if not labels.intersection(allowed):
        raise NotAuthorized(f"only the {', '.join(allowed)} may {action} this asset")
