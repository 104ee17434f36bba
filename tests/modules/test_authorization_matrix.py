"""The authorization matrix: every handler of every module, sent by every role.

``POLICY`` is the intended policy, one row per tx method (and one per
variant whose arguments change who may send it, ``"method (variant)"``): the
roles that pass the authorization step, and who exactly they are (the scope). Roles are
accounts of ``authorization_helpers.world()``: ``dso_here`` operates zone
north, where every record the cases name lives; ``dso_other`` operates south;
``meter_operator`` registered every meter and ``certifier`` attested every
asset (``*_other`` hold the same roles with no such tie); ``household`` holds
the consumer role, the certificate, the grid meter HOME1 and the open order;
``producer`` owns every asset; ``admin`` is the only admin (quorum 1), so an
admin action passes at once.

A case's arguments are valid for its allowed roles, so a refusal of any other
role can only be an authorization refusal (a ``vm.errors.AuthorizationError``:
MissingRole, NotZoneOperator, NotOwner, ...). For every (method, role):
allowed -> the tx succeeds (or fails with the one non-authorization error in
``AFTER_AUTHORIZATION``); not allowed -> an authorization refusal. A handler
without a row here fails ``test_every_handler_has_a_policy``. The README's
"Who may do what" table is rendered from ``POLICY`` (``readme_table``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from authorization_helpers import (
    KEYS,
    METER_KEYS,
    NEW_KEY,
    TARIFF_REST,
    Step,
    World,
    boundary,
    outcome,
    reading,
    world,
)
from registration_helpers import EVIDENCE, YEAR_MS, asset_args

from wattchain.modules import build_vm
from wattchain.vm.errors import AuthorizationError, TxError
from wattchain.vm.execution import TxResult

ROLES = ("none", "household", "producer", "dso_here", "dso_other", "meter_operator",
         "meter_operator_other", "certifier", "certifier_other", "oracle", "admin", "issuer",
         "validator")
EVERYONE = frozenset(ROLES)
ZONE_DSO = frozenset({"dso_here"})


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]
    who: str  # the README's wording of the scope


def rule(who: str, *roles: str) -> Rule:
    return Rule(frozenset(roles), who)


OPERATOR = "the zone's DSO"
POLICY: dict[str, Rule] = {
    "chain.set_validator": rule("an admin; applied once the admin quorum approved it", "admin"),
    "accounts.transfer": Rule(EVERYONE, "anyone, from their own balance"),
    "accounts.mint": rule("an issuer", "issuer"),
    "accounts.burn": rule("an issuer, from its own balance", "issuer"),
    "accounts.grant_role": rule("an admin; applied once the admin quorum approved it", "admin"),
    "accounts.revoke_role": rule("an admin; applied once the admin quorum approved it", "admin"),
    "registration.set_zone": Rule(ZONE_DSO, "any DSO creates a new zone; only the zone's "
                                  "DSO changes it"),
    "registration.register_producer": rule("a producer, for itself", "producer"),
    "registration.update_producer": rule("a producer, its own profile", "producer"),
    "registration.add_asset": rule("a producer with a profile", "producer"),
    "registration.update_asset": rule("the asset's owner", "producer"),
    "registration.attest": rule("a certifier that does not own the asset", "certifier",
                                "certifier_other"),
    "registration.approve": Rule(ZONE_DSO, "the asset zone's DSO"),
    "registration.suspend": rule("the asset zone's DSO, the attesting certifier or an admin",
                                 "dso_here", "certifier", "admin"),
    "registration.reinstate": rule("whoever suspended the asset, or an admin", "dso_here",
                                   "admin"),
    "registration.revoke": rule("the owner, the asset zone's DSO, the attesting certifier or "
                                "an admin", "producer", "dso_here", "certifier", "admin"),
    "registration.certify": rule("a certifier that does not own the asset", "certifier",
                                 "certifier_other"),
    "metering.register_meter": rule("a meter operator", "meter_operator",
                                    "meter_operator_other"),
    "metering.commission": rule("the meter's operator or an admin", "meter_operator", "admin"),
    "metering.decommission": rule("the meter's operator or an admin", "meter_operator",
                                  "admin"),
    "metering.rotate_key": rule("the meter's operator or an admin", "meter_operator", "admin"),
    "metering.submit_readings": Rule(EVERYONE, "anyone (a gateway): each reading carries its "
                                     "meter's signature"),
    "metering.set_tariff": Rule(ZONE_DSO, OPERATOR),
    "metering.issue_bill": rule("the account, its zone's DSO, the operator of its grid meter "
                                "or an admin", "household", "dso_here", "meter_operator",
                                "admin"),
    "trading.place_order": Rule(EVERYONE, "anyone; a buy locks its cost, a sell names an "
                                "active asset of the seller in the zone"),
    "trading.place_order (sell)": rule("the owner of the asset sold from", "producer"),
    "trading.cancel_order": rule("the order's owner", "household"),
    "trading.reduce_order": rule("the order's owner", "household"),
    "trading.set_grid_fee": Rule(ZONE_DSO, OPERATOR),
    "trading.set_price_band": Rule(ZONE_DSO, OPERATOR),
    "trading.set_market_mode": Rule(ZONE_DSO, OPERATOR),
    "trading.set_imbalance_price": Rule(ZONE_DSO, OPERATOR),
    "trading.set_interconnection": Rule(ZONE_DSO, "the DSO of the zone the link leaves"),
    "trading.transfer_certificate": rule("the certificate's holder", "household"),
    "trading.retire_certificate": rule("the certificate's holder", "household"),
    "balancing.set_imbalance_bounds": Rule(ZONE_DSO, OPERATOR),
    "balancing.offer_flex": rule("the asset's owner", "producer"),
    "balancing.withdraw_flex": rule("the asset's owner", "producer"),
    "balancing.declare_emergency": Rule(ZONE_DSO, OPERATOR),
    "balancing.clear_emergency": Rule(ZONE_DSO, OPERATOR),
    "oracle.submit": rule("an oracle", "oracle"),
}

# (method, role) that pass authorization but that the world cannot make succeed.
AFTER_AUTHORIZATION = {
    ("registration.register_producer", "producer"): "ProducerExists",  # has its profile
}


@dataclass(frozen=True)
class Case:
    args: Callable[[World], list[Any]]
    before: Callable[[World], list[Step]] = lambda w: []


def new_tariff(w: World) -> list[Any]:
    return ["north", boundary(w.chain, 5), *TARIFF_REST]


def fresh_reading(w: World) -> list[Any]:
    time_ms = w.chain.time_ms
    return [[reading("HOME1", w.home_seq + 1, time_ms, 600, 0)]]


def solar(w: World) -> int:
    return w.assets["solar"]


CONTACT = "mailto:me@example.org"
CASES: dict[str, Case] = {
    "chain.set_validator": Case(lambda w: [NEW_KEY.public_key, 10, "v2"]),
    "accounts.transfer": Case(lambda w: [KEYS["none"].address, 1]),
    "accounts.mint": Case(lambda w: [KEYS["household"].address, 1_000]),
    "accounts.burn": Case(lambda w: [1]),
    "accounts.grant_role": Case(lambda w: [NEW_KEY.address, "consumer"]),
    "accounts.revoke_role": Case(lambda w: [KEYS["household"].address, "consumer"]),
    "registration.set_zone": Case(lambda w: ["north", "North feeder 2", 10**9]),
    "registration.register_producer": Case(lambda w: ["Me", "household", CONTACT, "{}"]),
    "registration.update_producer": Case(lambda w: ["Sunny Farm 2", "business", CONTACT,
                                                    "{}"]),
    "registration.add_asset": Case(lambda w: asset_args(serial="SN-NEW", zone="north")),
    "registration.update_asset": Case(lambda w: [solar(w), 70_000, 0, *asset_args(
        serial="SN-SOLAR")[8:13], "PV1"]),
    "registration.attest": Case(lambda w: [w.assets["submitted"], 1, EVIDENCE]),
    "registration.approve": Case(lambda w: [w.assets["attested"], 1]),
    "registration.suspend": Case(lambda w: [solar(w), "inspection due"]),
    "registration.reinstate": Case(lambda w: [w.assets["suspended"], "inspected"]),
    "registration.revoke": Case(lambda w: [solar(w), "removed"]),
    "registration.certify": Case(lambda w: [solar(w), "GO", "GO-7", w.chain.time_ms,
                                            w.chain.time_ms + YEAR_MS]),
    "metering.register_meter": Case(lambda w: [
        "NEW1", "consumption", METER_KEYS["NEW1"].public_key, KEYS["household"].address,
        "north", 0, 20_000, True]),
    "metering.commission": Case(lambda w: ["SPARE1"]),
    "metering.decommission": Case(lambda w: ["HOME1", "replaced"]),
    "metering.rotate_key": Case(lambda w: ["HOME1", NEW_KEY.public_key]),
    "metering.submit_readings": Case(fresh_reading),
    "metering.set_tariff": Case(new_tariff),
    "metering.issue_bill": Case(lambda w: [KEYS["household"].address, *w.bill_period]),
    "trading.place_order": Case(lambda w: ["buy", "north", w.far_interval, 100, 50_000, 0, 0,
                                           b"", 0]),
    "trading.place_order (sell)": Case(lambda w: ["sell", "north", w.far_interval, 100,
                                                  50_000, 0, 0, b"", w.assets["solar"]]),
    "trading.cancel_order": Case(lambda w: [w.order]),
    "trading.reduce_order": Case(lambda w: [w.order, 50]),
    "trading.set_grid_fee": Case(lambda w: ["north", 10]),
    "trading.set_price_band": Case(lambda w: ["north", 0, 1_000_000]),
    "trading.set_market_mode": Case(lambda w: ["north", "continuous"]),
    "trading.set_imbalance_price": Case(lambda w: ["north", 100_000]),
    "trading.set_interconnection": Case(lambda w: ["north", "south", 10_000, 5]),
    "trading.transfer_certificate": Case(lambda w: [w.certificate, KEYS["none"].address]),
    "trading.retire_certificate": Case(lambda w: [w.certificate, "Town hall"]),
    "balancing.set_imbalance_bounds": Case(lambda w: ["north", 0, 500_000]),
    "balancing.offer_flex": Case(lambda w: [w.assets["storage"], 1_000, 1_000, 900, 0, 0,
                                            60_000, 10_000, 4]),
    "balancing.withdraw_flex": Case(lambda w: [w.assets["storage"]]),
    "balancing.declare_emergency": Case(lambda w: ["north", "shortage", 1, 3_600_000]),
    "balancing.clear_emergency": Case(lambda w: ["north"], before=lambda w: [
        ("dso_here", "balancing", "declare_emergency", ["north", "overload", 1, 3_600_000])]),
    "oracle.submit": Case(lambda w: ["wholesale_price", "north",
                                     (w.chain.time_ms + 1_000) // 60_000, 50_000]),
}


def subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)


build_vm()  # imports every module's errors
REFUSALS = {(c.codespace, c.code) for c in subclasses(AuthorizationError)}
ERROR_NAMES = {(c.codespace, c.code): c.__name__ for c in subclasses(TxError)}


def is_refusal(result: TxResult) -> bool:
    return (result.codespace, result.code) in REFUSALS


@pytest.fixture(scope="module")
def built() -> World:
    return world()


def run(built: World, method: str, role: str) -> TxResult:
    module, name = method.split(" ")[0].split(".")
    case = CASES[method]
    return outcome(built, [*case.before(built), (role, module, name, case.args(built))])


def describe(result: TxResult) -> str:
    if result.ok:
        return "ok"
    return f"{ERROR_NAMES.get((result.codespace, result.code), '?')}: {result.log}"


def test_every_handler_has_a_policy_and_a_case() -> None:
    routes = {f"{module}.{method}" for module, method in build_vm().routes}
    methods = {row.split(" ")[0] for row in POLICY}  # "m.method (variant)": more rows
    assert methods == routes, "a handler without a matrix row, or a row without a handler"
    assert set(CASES) == set(POLICY)
    assert all(rule.roles <= EVERYONE and rule.roles for rule in POLICY.values())


def test_authorization_codes_are_not_shared_with_other_errors() -> None:
    others = {(c.codespace, c.code) for c in subclasses(TxError)
              if not issubclass(c, AuthorizationError)}
    assert REFUSALS.isdisjoint(others - {("vm", 1)})


@pytest.mark.parametrize("method", sorted(POLICY))
def test_matrix(built: World, method: str) -> None:
    """Exactly the intended roles pass; the allowed ones succeed, the others are refused
    for who they are."""
    wrong = {}
    for role in ROLES:
        result = run(built, method, role)
        allowed = role in POLICY[method].roles
        expected = AFTER_AUTHORIZATION.get((method, role), "ok") if allowed else "refusal"
        got = "refusal" if is_refusal(result) else "ok" if result.ok else \
            ERROR_NAMES.get((result.codespace, result.code), "?")
        if got != expected:
            wrong[role] = f"expected {expected}, got {describe(result)}"
    assert not wrong, wrong


# -- a zone's operator that lost the dso role governs the zone no more ----------------------

WEST_CASES: dict[str, list[Any]] = {
    "registration.set_zone": ["west", "West feeder 2", 10**9],
    "metering.set_tariff": ["west", 0, *TARIFF_REST],  # effective_from set in the test
    "trading.set_grid_fee": ["west", 10],
    "trading.set_price_band": ["west", 0, 1_000_000],
    "trading.set_market_mode": ["west", "continuous"],
    "trading.set_imbalance_price": ["west", 100_000],
    "trading.set_interconnection": ["west", "north", 10_000, 5],
    "balancing.set_imbalance_bounds": ["west", 0, 500_000],
    "balancing.declare_emergency": ["west", "overload", 2, 3_600_000],
    "balancing.clear_emergency": ["west"],
}


def test_every_zone_setting_method_has_a_former_dso_case() -> None:
    zone_rows = {method for method, rule in POLICY.items() if rule.roles == ZONE_DSO}
    assert zone_rows - {"registration.approve"} == set(WEST_CASES)


@pytest.mark.parametrize("method", sorted(WEST_CASES))
def test_a_former_dso_is_refused_in_its_own_zone(built: World, method: str) -> None:
    """``former_dso`` created zone west, then the admin revoked its dso role: refused;
    with the role granted back (same block, before it), the same tx succeeds."""
    module, name = method.split(".")
    args = list(WEST_CASES[method])
    if method == "metering.set_tariff":
        args[1] = boundary(built.chain, 5)
    step: Step = ("former_dso", module, name, args)
    refused = outcome(built, [step])
    assert is_refusal(refused), describe(refused)
    regrant: Step = ("admin", "accounts", "grant_role", [KEYS["former_dso"].address, "dso"])
    restored = outcome(built, [regrant, step])
    assert restored.ok, describe(restored)


# -- the README's table --------------------------------------------------------------------

README = Path(__file__).resolve().parents[2] / "README.md"
TABLE_START = "<!-- who-may-do-what: generated from POLICY in " \
    "tests/modules/test_authorization_matrix.py -->"
TABLE_END = "<!-- end who-may-do-what -->"


def readme_table() -> str:
    rows = [f"| `{method}` | {rule.who} |" for method, rule in POLICY.items()]
    return "\n".join([TABLE_START, "| module.method | who may send it |", "|---|---|", *rows,
                      TABLE_END])


def test_the_readme_table_is_the_policy() -> None:
    text = README.read_text(encoding="utf-8")
    found = re.search(re.escape(TABLE_START) + ".*?" + re.escape(TABLE_END), text, re.S)
    assert found is not None, "README lacks the 'Who may do what' table"
    assert found.group(0) == readme_table(), "README table is stale; paste:\n" + readme_table()
