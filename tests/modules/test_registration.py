"""The registration module: each handler, the verification workflow, typed
errors that change nothing, queries and the ProducerRegistry protocol.

Every block runs through ``run_block``, which checks every module's
invariants afterwards (per zone connected <= hosting capacity; every active
asset attested and approved; indexes in step with the records).
"""

from __future__ import annotations

from typing import Any

import pytest
from chain_helpers import ALICE, BOB, CAROL, FAUCET, make_tx, nonce, run_block
from registration_helpers import (
    CERTIFIER,
    DSO,
    EVIDENCE,
    OTHER_CERTIFIER,
    OTHER_DSO,
    YEAR_MS,
    ZONE,
    activate,
    add_asset,
    approve,
    asset_args,
    attest,
    attributes,
    certify,
    ok,
    q,
    ready_chain,
    refused,
    reg_chain,
    registry,
    revision,
    setup_producer,
    setup_zone,
    status,
)

from wattchain.crypto import PrivateKey, format_address
from wattchain.modules.registration import errors
from wattchain.vm.errors import InvalidArgs, TxError

# -- zones -----------------------------------------------------------------------------


def test_dso_creates_and_changes_its_zone() -> None:
    chain = reg_chain()
    result = ok(chain, DSO, "set_zone", ZONE, "North feeder", 50_000)
    assert attributes(result, "zone_set")["operator"] == format_address(DSO.address)
    ok(chain, DSO, "set_zone", ZONE, "North feeder 2", 60_000)
    assert q(chain, "zone", zone_id=ZONE) == {
        "zone_id": ZONE, "name": "North feeder 2", "hosting_capacity_w": 60_000,
        "operator": format_address(DSO.address), "connected_w": 0}
    refused(chain, OTHER_DSO, "set_zone", ZONE, "mine now", 1, error=errors.NotZoneOperator)
    refused(chain, ALICE, "set_zone", "south", "South", 1, error=errors.MissingRole)
    refused(chain, DSO, "set_zone", "bad/zone", "x", 1, error=InvalidArgs)
    refused(chain, DSO, "set_zone", "south", "South", 0, error=InvalidArgs)
    assert [z["zone_id"] for z in q(chain, "zones")["zones"]] == [ZONE]


def test_hosting_capacity_cannot_drop_below_connected() -> None:
    chain = ready_chain(hosting_w=20_000)
    activate(chain, add_asset(chain, capacity_w=15_000))
    refused(chain, DSO, "set_zone", ZONE, "north", 14_999, error=errors.HostingCapacityExceeded)
    ok(chain, DSO, "set_zone", ZONE, "north", 15_000)


# -- producers -----------------------------------------------------------------------------


def test_register_and_update_a_producer() -> None:
    chain = reg_chain()
    result = ok(chain, ALICE, "register_producer", "Alice", "household", "mailto:a@example.org",
                '{"roof":"south"}')
    assert attributes(result, "producer_registered")["kind"] == "household"
    profile = q(chain, "producer", address=format_address(ALICE.address))
    assert profile["name"] == "Alice" and profile["assets"] == []
    assert profile["registered_height"] == chain.height
    ok(chain, ALICE, "update_producer", "Alice & Co", "community", "https://alice.example",
       "")
    updated = q(chain, "producer", address=format_address(ALICE.address))
    assert (updated["name"], updated["kind"]) == ("Alice & Co", "community")
    assert updated["registered_height"] == profile["registered_height"]
    assert [p["name"] for p in q(chain, "producers", kind="community")["producers"]] == [
        "Alice & Co"]
    assert q(chain, "producers", kind="utility")["producers"] == []


@pytest.mark.parametrize("signer, args, error", [
    (CAROL, ["Carol", "household", "mailto:c@x.org", ""], errors.MissingRole),
    (ALICE, ["Alice", "castle", "mailto:a@x.org", ""], errors.UnknownProducerKind),
    (ALICE, ["Alice", "household", "not a uri", ""], InvalidArgs),
    (ALICE, ["", "household", "mailto:a@x.org", ""], InvalidArgs),
    (ALICE, ["Alice", "household", "mailto:a@x.org", "x" * 1025], errors.MetadataTooLarge),
    (ALICE, ["Alice", "household", "mailto:a@x.org", "é" * 513], errors.MetadataTooLarge),
    (ALICE, ["Alice", "household", "mailto:a@x.org", b"bytes"], InvalidArgs),
    (ALICE, ["Alice", "household", "mailto:a@x.org"], InvalidArgs),
])
def test_bad_producer_registration(signer: PrivateKey, args: list[Any],
                                   error: type[TxError]) -> None:
    chain = reg_chain()
    refused(chain, signer, "register_producer", *args, error=error)


def test_a_profile_is_registered_once_and_updated_only_when_it_exists() -> None:
    chain = reg_chain()
    refused(chain, ALICE, "update_producer", "A", "household", "mailto:a@x.org", "",
            error=errors.UnknownProducer)
    setup_producer(chain)
    refused(chain, ALICE, "register_producer", "A", "household", "mailto:a@x.org", "",
            error=errors.ProducerExists)


# -- assets ----------------------------------------------------------------------------------


def test_add_asset_submits_it_for_verification() -> None:
    chain = ready_chain()
    result = ok(chain, ALICE, "add_asset", *asset_args(meter="MTR-1"))
    assert attributes(result, "asset_status") == {
        "asset_id": "1", "action": "register", "status": "submitted", "previous_status": "",
        "actor": format_address(ALICE.address), "reason": "registered"}
    asset = q(chain, "asset", asset_id=1)
    assert (asset["status"], asset["revision"], asset["meter_id"]) == ("submitted", 1, "MTR-1")
    assert asset["equipment"]["serial"] == "SN-0001"
    assert asset["attestation"] is None and asset["approval"] is None
    assert add_asset(chain, BOB, asset_type="storage", capacity_w=5_000, energy_wh=13_500,
                     serial="BAT-1") == 2
    assert q(chain, "asset", asset_id=2)["energy_wh"] == 13_500


BAD_ASSETS = {
    "unknown type": (asset_args(asset_type="nuclear"), errors.UnknownAssetType),
    "zero capacity": (asset_args(capacity_w=0), errors.InvalidCapacity),
    "negative capacity": (asset_args(capacity_w=-5), errors.InvalidCapacity),
    "capacity above the genesis limit": (asset_args(capacity_w=1_000_000_001),
                                         errors.InvalidCapacity),
    "energy on a solar asset": (asset_args(energy_wh=10), errors.InvalidCapacity),
    "storage without energy": (asset_args(asset_type="storage"), errors.InvalidCapacity),
    "unknown zone": (asset_args(zone="south"), errors.UnknownZone),
    "malformed zone": (asset_args(zone="no spaces"), InvalidArgs),
    "latitude beyond the pole": (asset_args(latitude=90_000_001), errors.InvalidLocation),
    "float-like longitude": (asset_args(longitude="13.4"), errors.InvalidLocation),
    "no units": (asset_args(unit_count=0), InvalidArgs),
    "empty serial": (asset_args(serial=""), InvalidArgs),
    "bad meter id": (asset_args(meter="meter #1"), InvalidArgs),
    "too few args": (asset_args()[:-1], InvalidArgs),
}


@pytest.mark.parametrize("args, error", list(BAD_ASSETS.values()), ids=list(BAD_ASSETS))
def test_bad_asset_is_refused_and_changes_nothing(args: list[Any],
                                                  error: type[TxError]) -> None:
    chain = ready_chain()
    refused(chain, ALICE, "add_asset", *args, error=error)
    assert q(chain, "assets")["assets"] == []


def test_asset_needs_the_producer_role_a_profile_and_a_fresh_serial_and_meter() -> None:
    chain = ready_chain()
    refused(chain, CAROL, "add_asset", *asset_args(), error=errors.MissingRole)
    chain2 = reg_chain()
    setup_zone(chain2)
    refused(chain2, ALICE, "add_asset", *asset_args(), error=errors.UnknownProducer)
    add_asset(chain, meter="MTR-1")
    refused(chain, BOB, "add_asset", *asset_args(), error=errors.DuplicateSerial)
    refused(chain, BOB, "add_asset", *asset_args(serial="SN-2", meter="MTR-1"),
            error=errors.MeterAlreadyBound)


def test_a_genesis_limit_bounds_capacity() -> None:
    chain = reg_chain({"params": {"max_asset_capacity_w": 10_000}})
    setup_zone(chain)
    setup_producer(chain)
    refused(chain, ALICE, "add_asset", *asset_args(capacity_w=10_001),
            error=errors.InvalidCapacity)
    add_asset(chain, capacity_w=10_000)


# -- the verification workflow -----------------------------------------------------------


def test_workflow_submitted_attested_active_with_history_and_events() -> None:
    chain = ready_chain()
    asset_id = add_asset(chain)
    result = attest(chain, asset_id)
    assert attributes(result, "asset_status")["status"] == "attested"
    assert q(chain, "asset", asset_id=asset_id)["attestation"]["evidence_hash"] == (
        "0x" + EVIDENCE.hex())
    result = approve(chain, asset_id)
    assert attributes(result, "asset_status") == {
        "asset_id": str(asset_id), "action": "approve", "status": "active",
        "previous_status": "attested", "actor": format_address(DSO.address),
        "reason": "grid connection approved"}
    assert q(chain, "zone", zone_id=ZONE)["connected_w"] == 8_000
    history = q(chain, "history", asset_id=asset_id)["history"]
    assert [h["status"] for h in history] == ["submitted", "attested", "active"]
    assert [h["actor"] for h in history] == [format_address(k.address)
                                            for k in (ALICE, CERTIFIER, DSO)]
    assert history[0]["height"] < history[1]["height"] < history[2]["height"]


def test_attest_errors() -> None:
    chain = ready_chain()
    asset_id = add_asset(chain)
    bob_asset = add_asset(chain, BOB, serial="SN-B")
    refused(chain, ALICE, "attest", asset_id, 1, EVIDENCE, error=errors.MissingRole)
    refused(chain, BOB, "attest", bob_asset, 1, EVIDENCE, error=errors.SelfAttestation)
    refused(chain, CERTIFIER, "attest", asset_id, 2, EVIDENCE, error=errors.StaleRevision)
    refused(chain, CERTIFIER, "attest", asset_id, 1, EVIDENCE[:31], error=InvalidArgs)
    refused(chain, CERTIFIER, "attest", 99, 1, EVIDENCE, error=errors.UnknownAsset)
    refused(chain, CERTIFIER, "attest", 0, 1, EVIDENCE, error=InvalidArgs)
    assert attest(chain, asset_id).ok
    refused(chain, OTHER_CERTIFIER, "attest", asset_id, 1, EVIDENCE,
            error=errors.InvalidTransition)


def test_approve_errors_and_hosting_capacity() -> None:
    chain = ready_chain(hosting_w=10_000)
    first = add_asset(chain, capacity_w=6_000)
    second = add_asset(chain, BOB, capacity_w=5_000, serial="SN-B")
    refused(chain, DSO, "approve", first, 1, error=errors.InvalidTransition)  # not attested
    assert attest(chain, first).ok and attest(chain, second).ok
    refused(chain, CERTIFIER, "approve", first, 1, error=errors.MissingRole)
    refused(chain, OTHER_DSO, "approve", first, 1, error=errors.NotZoneOperator)
    refused(chain, DSO, "approve", first, 7, error=errors.StaleRevision)
    assert approve(chain, first).ok
    log = refused(chain, DSO, "approve", second, 1, error=errors.HostingCapacityExceeded)
    assert "6000 W of 10000 W" in log
    ok(chain, DSO, "set_zone", ZONE, "north", 11_000)
    assert approve(chain, second).ok
    assert q(chain, "zone", zone_id=ZONE)["connected_w"] == 11_000


def test_suspend_reinstate_revoke_with_reasons_and_authority() -> None:
    chain = ready_chain()
    asset_id = add_asset(chain)
    activate(chain, asset_id)
    refused(chain, ALICE, "suspend", asset_id, "I want to", error=errors.NotAuthorized)
    refused(chain, OTHER_CERTIFIER, "suspend", asset_id, "x", error=errors.NotAuthorized)
    refused(chain, DSO, "suspend", asset_id, "", error=InvalidArgs)
    result = ok(chain, DSO, "suspend", asset_id, "feeder overload")
    assert attributes(result, "asset_status")["reason"] == "feeder overload"
    assert q(chain, "zone", zone_id=ZONE)["connected_w"] == 8_000  # still connected
    refused(chain, CERTIFIER, "reinstate", asset_id, "looks fine", error=errors.NotAuthorized)
    refused(chain, DSO, "suspend", asset_id, "again", error=errors.InvalidTransition)
    ok(chain, DSO, "reinstate", asset_id, "feeder upgraded")
    ok(chain, CERTIFIER, "suspend", asset_id, "certificate audit")
    ok(chain, FAUCET, "reinstate", asset_id, "audit closed by the consortium")  # admin
    assert status(chain, asset_id) == "active"
    refused(chain, BOB, "revoke", asset_id, "not mine", error=errors.NotAuthorized)
    ok(chain, ALICE, "revoke", asset_id, "decommissioned")
    assert status(chain, asset_id) == "revoked"
    assert q(chain, "zone", zone_id=ZONE)["connected_w"] == 0
    refused(chain, FAUCET, "reinstate", asset_id, "oops", error=errors.InvalidTransition)
    refused(chain, FAUCET, "revoke", asset_id, "twice", error=errors.InvalidTransition)
    statuses = [h["status"] for h in q(chain, "history", asset_id=asset_id)["history"]]
    assert statuses == ["submitted", "attested", "active", "suspended", "active", "suspended",
                        "active", "revoked"]


def test_a_certifier_who_loses_its_role_loses_its_authority() -> None:
    chain = ready_chain()
    asset_id = add_asset(chain)
    activate(chain, asset_id)
    ok(chain, FAUCET, "suspend", asset_id, "admin check")
    ok(chain, FAUCET, "reinstate", asset_id, "done")
    stx = make_tx(FAUCET, nonce(chain, FAUCET), "accounts", "revoke_role",
                  [CERTIFIER.address, "certifier"])
    assert run_block(chain, [stx]).tx_results[0].ok
    refused(chain, CERTIFIER, "suspend", asset_id, "x", error=errors.NotAuthorized)


def test_update_of_capacity_or_specs_sends_the_asset_back_to_verification() -> None:
    chain = ready_chain()
    asset_id = add_asset(chain, meter="MTR-1")
    activate(chain, asset_id)
    base = [asset_id, 8_000, 0, "SunWorks", "SW-330", "SN-0001", "InvertaMax 8", 24]
    refused(chain, ALICE, "update_asset", *base, "MTR-1", error=errors.NothingChanged)
    refused(chain, BOB, "update_asset", *base, "MTR-2", error=errors.NotAuthorized)
    ok(chain, ALICE, "update_asset", *base, "MTR-2")  # a new meter alone keeps it active
    assert (status(chain, asset_id), revision(chain, asset_id)) == ("active", 1)
    result = ok(chain, ALICE, "update_asset", asset_id, 9_000, *base[2:], "MTR-2")
    assert attributes(result, "asset_status")["previous_status"] == "active"
    asset = q(chain, "asset", asset_id=asset_id)
    assert (asset["status"], asset["revision"], asset["capacity_w"]) == ("submitted", 2, 9_000)
    assert asset["attestation"] is None and asset["approval"] is None
    assert q(chain, "zone", zone_id=ZONE)["connected_w"] == 0
    refused(chain, CERTIFIER, "attest", asset_id, 1, EVIDENCE, error=errors.StaleRevision)
    activate(chain, asset_id)
    assert q(chain, "zone", zone_id=ZONE)["connected_w"] == 9_000


def test_update_checks_like_add_and_revoked_assets_are_final() -> None:
    chain = ready_chain()
    first = add_asset(chain)
    add_asset(chain, serial="SN-2", meter="MTR-9")
    specs = ["SunWorks", "SW-330", "SN-0001", "InvertaMax 8", 24]
    refused(chain, ALICE, "update_asset", first, 0, 0, *specs, "", error=errors.InvalidCapacity)
    refused(chain, ALICE, "update_asset", first, 8_000, 0, "SunWorks", "SW-330", "SN-2",
            "InvertaMax 8", 24, "", error=errors.DuplicateSerial)
    refused(chain, ALICE, "update_asset", first, 8_000, 0, *specs, "MTR-9",
            error=errors.MeterAlreadyBound)
    ok(chain, ALICE, "update_asset", first, 7_000, 0, *specs, "")  # submitted stays submitted
    assert status(chain, first) == "submitted"
    ok(chain, ALICE, "revoke", first, "sold the roof")
    refused(chain, ALICE, "update_asset", first, 6_000, 0, *specs, "",
            error=errors.InvalidTransition)
    refused(chain, BOB, "add_asset", *asset_args(), error=errors.DuplicateSerial)


def test_revoking_frees_the_meter_but_not_the_serial() -> None:
    chain = ready_chain()
    asset_id = add_asset(chain, meter="MTR-1")
    ok(chain, ALICE, "revoke", asset_id, "withdrawn")
    add_asset(chain, serial="SN-NEW", meter="MTR-1")


# -- certifications --------------------------------------------------------------------------


def test_certify_and_renewable_claims_follow_the_validity_window() -> None:
    chain = ready_chain()
    asset_id = add_asset(chain)
    refused(chain, CERTIFIER, "certify", asset_id, "I-REC", "IREC-1", 0, 10**15,
            error=errors.InvalidTransition)  # not yet verified
    activate(chain, asset_id)
    start, end = chain.time_ms, chain.time_ms + YEAR_MS
    result = certify(chain, asset_id, start=start, end=end)
    assert attributes(result, "certified")["seq"] == "0"
    reg = registry(chain)
    assert reg.is_renewable(chain.state, asset_id, start)
    assert reg.is_renewable(chain.state, asset_id, end - 1)
    assert not reg.is_renewable(chain.state, asset_id, end)  # expired
    assert not reg.is_renewable(chain.state, asset_id, start - 1)
    view = q(chain, "asset", asset_id=asset_id, at_ms=end)
    assert (view["renewable"], view["active_capacity_w"]) == (False, 8_000)
    assert view["certifications"][0]["scheme"] == "I-REC"
    ok(chain, DSO, "suspend", asset_id, "inspection")
    assert not reg.is_renewable(chain.state, asset_id, start + 1)


def test_certify_errors() -> None:
    chain = ready_chain()
    asset_id = add_asset(chain)
    bob_asset = add_asset(chain, BOB, serial="SN-B")
    storage = add_asset(chain, asset_type="storage", energy_wh=10_000, serial="BAT-1")
    for item in (asset_id, bob_asset, storage):
        assert attest(chain, item, OTHER_CERTIFIER).ok
    now = chain.time_ms
    refused(chain, ALICE, "certify", asset_id, "GO", "GO-1", now, now + 10,
            error=errors.MissingRole)
    refused(chain, BOB, "certify", bob_asset, "GO", "GO-1", now, now + YEAR_MS,
            error=errors.SelfAttestation)
    refused(chain, CERTIFIER, "certify", storage, "GO", "GO-1", now, now + YEAR_MS,
            error=errors.NotRenewable)
    refused(chain, CERTIFIER, "certify", asset_id, "TÜV", "X-1", now, now + YEAR_MS,
            error=errors.UnknownScheme)
    refused(chain, CERTIFIER, "certify", asset_id, "GO", "GO-1", now + 5, now + 5,
            error=errors.InvalidValidity)
    refused(chain, CERTIFIER, "certify", asset_id, "GO", "GO-1", 0, now,
            error=errors.InvalidValidity)  # already over
    assert certify(chain, asset_id, "GO-1", scheme="GO").ok
    refused(chain, CERTIFIER, "certify", bob_asset, "GO", "GO-1", now, now + YEAR_MS,
            error=errors.DuplicateCertificate)
    assert certify(chain, bob_asset, "GO-1", scheme="REC").ok  # another scheme's id space


def test_certifications_expiring_before_a_time() -> None:
    chain = ready_chain()
    first, second = add_asset(chain), add_asset(chain, BOB, serial="SN-B")
    activate(chain, first)
    activate(chain, second)
    now = chain.time_ms
    assert certify(chain, first, "C-3", end=now + 3 * YEAR_MS).ok
    assert certify(chain, second, "C-1", end=now + YEAR_MS).ok
    assert certify(chain, first, "C-2", scheme="custom", end=now + 2 * YEAR_MS).ok
    found = q(chain, "expiring", before_ms=now + 2 * YEAR_MS + 1)["certifications"]
    assert [(c["certificate_id"], c["asset_id"], c["seq"]) for c in found] == [
        ("C-1", second, 0), ("C-2", first, 1)]
    assert len(q(chain, "expiring", before_ms=now + 4 * YEAR_MS, limit=1)[
        "certifications"]) == 1
    assert q(chain, "expiring", before_ms=now)["certifications"] == []
