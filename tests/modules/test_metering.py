"""The metering module: meter registration, commissioning, decommissioning,
key rotation, asset binding through registration's ProducerRegistry, typed
errors that change nothing, and genesis export -> import."""

from __future__ import annotations

from chain_helpers import (
    ALICE,
    BOB,
    CAROL,
    FAUCET,
    assert_genesis_round_trip,
)
from metering_helpers import (
    INTERVAL_MS,
    METER_KEYS,
    OPERATOR,
    T0,
    ZONE,
    add_meter,
    met_chain,
    ok,
    q,
    reading,
    refused,
    rejections,
    relay,
)
from registration_helpers import activate, add_asset, setup_producer

from wattchain.crypto import format_address
from wattchain.modules.metering import errors
from wattchain.vm.errors import InvalidArgs


def test_operator_registers_and_commissions_a_meter() -> None:
    chain = met_chain()
    add_meter(chain, commission=False)
    meter = q(chain, "meter", meter_id="M1")
    assert (meter["status"], meter["type"], meter["account"]) == (
        "registered", "consumption", format_address(ALICE.address))
    result = relay(chain, [reading("M1", 1, T0, 100)])
    assert rejections(result) == [("1", "meter_not_active")]
    ok(chain, OPERATOR, "commission", "M1")
    assert q(chain, "meter", meter_id="M1")["status"] == "active"
    assert [m["meter_id"] for m in q(chain, "meters", account=format_address(ALICE.address))[
        "meters"]] == ["M1"]
    refused(chain, OPERATOR, "commission", "M1", error=errors.InvalidTransition)


def test_registration_is_checked() -> None:
    chain = met_chain()
    pub = METER_KEYS["M1"].public_key
    args = ["M1", "consumption", pub, ALICE.address, ZONE, 0, 20_000, False]
    refused(chain, ALICE, "register_meter", *args, error=errors.MissingRole)
    refused(chain, OPERATOR, "register_meter", "M1", "gas", *args[2:],
            error=errors.UnknownMeterType)
    refused(chain, OPERATOR, "register_meter", "M1", "consumption", b"\x05" * 33, *args[3:],
            error=errors.InvalidPublicKey)
    refused(chain, OPERATOR, "register_meter", *args[:6], 0, False, error=InvalidArgs)
    refused(chain, OPERATOR, "register_meter", *args[:7], 1, error=InvalidArgs)
    refused(chain, OPERATOR, "register_meter", "M1", "production", *args[2:],
            error=errors.AssetMismatch)
    ok(chain, OPERATOR, "register_meter", *args)
    refused(chain, OPERATOR, "register_meter", *args, error=errors.MeterExists)
    refused(chain, OPERATOR, "register_meter", "M2", *args[1:], error=errors.KeyInUse)


def test_production_meter_binds_an_asset_of_its_account_and_zone() -> None:
    chain = met_chain()
    setup_producer(chain, ALICE)
    asset_id = add_asset(chain)
    activate(chain, asset_id)
    pub = METER_KEYS["PV1"].public_key
    refused(chain, OPERATOR, "register_meter", "PV1", "production", pub, BOB.address, ZONE,
            asset_id, 8_000, True, error=errors.AssetMismatch)
    ok(chain, OPERATOR, "register_meter", "PV1", "production", pub, ALICE.address, ZONE,
       asset_id, 8_000, True)
    assert q(chain, "meter", meter_id="PV1")["asset_id"] == asset_id


def test_only_its_operator_or_an_admin_manages_a_meter() -> None:
    chain = met_chain()
    add_meter(chain)
    refused(chain, CAROL, "decommission", "M1", "x", error=errors.NotMeterOperator)
    refused(chain, OPERATOR, "decommission", "M9", "x", error=errors.UnknownMeter)
    ok(chain, FAUCET, "decommission", "M1", "meter replaced")
    assert q(chain, "meter", meter_id="M1")["status"] == "decommissioned"
    refused(chain, OPERATOR, "decommission", "M1", "again", error=errors.InvalidTransition)
    refused(chain, OPERATOR, "rotate_key", "M1", METER_KEYS["M2"].public_key,
            error=errors.InvalidTransition)
    result = relay(chain, [reading("M1", 1, T0, 100)])
    assert rejections(result) == [("1", "meter_not_active")]


def test_key_rotation_switches_the_signing_key() -> None:
    chain = met_chain()
    add_meter(chain)
    relay(chain, [reading("M1", 1, T0, 100)])
    new_key = METER_KEYS["EV1"]
    ok(chain, OPERATOR, "rotate_key", "M1", new_key.public_key)
    result = relay(chain, [reading("M1", 2, T0 + INTERVAL_MS, 200),
                           reading("M1", 2, T0 + INTERVAL_MS, 200, signer=new_key)])
    assert rejections(result) == [("2", "bad_signature")]
    assert q(chain, "meter", meter_id="M1")["last_seq"] == 2
    # the old key is free again: another meter may use it
    ok(chain, OPERATOR, "register_meter", "M2", "consumption", METER_KEYS["M1"].public_key,
       BOB.address, ZONE, 0, 10_000, False)


def test_genesis_export_import_round_trip() -> None:
    chain = met_chain()
    add_meter(chain)
    add_meter(chain, "M2", "net", account=BOB)
    relay(chain, [reading("M1", 1, T0, 1_000), reading("M1", 2, T0 + INTERVAL_MS, 1_500),
                  reading("M1", 5, T0 + 4 * INTERVAL_MS, 3_000),
                  reading("M2", 1, T0, 0, 0), reading("M2", 2, T0 + INTERVAL_MS, 10, 300)])
    assert_genesis_round_trip(chain)
