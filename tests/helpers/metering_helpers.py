"""Builders for the metering tests: a chain with a zone, a meter operator, a
gateway and customers; one-line helpers to register meters and relay signed
readings (every block runs through ``run_block``, so invariants are checked)."""

from __future__ import annotations

from typing import Any

from chain_helpers import (
    ALICE,
    BOB,
    CHAIN_ID,
    Chain,
    ModuleTxs,
    account_entry,
    key,
    make_genesis,
    send,
    start_chain,
)
from registration_helpers import DSO, FUNDS, ZONE, registration_accounts

from wattchain.crypto import PrivateKey
from wattchain.genesis.presets import DEVNET_GENESIS_TIME_MS
from wattchain.modules.metering.ingest import sign_reading
from wattchain.vm.execution import TxResult

OPERATOR = key(20)
GATEWAY = key(21)
METER_KEYS = {name: key(40 + index) for index, name in
              enumerate(("M1", "M2", "PV1", "NET1", "EV1", "SUB1"))}
INTERVAL_MS = 900_000
DAY_MS = 86_400_000
# Readings of "yesterday": well before block time, so never in the future.
T0 = DEVNET_GENESIS_TIME_MS - DAY_MS


def metering_accounts() -> list[dict[str, Any]]:
    accounts = [a for a in registration_accounts()]
    return accounts + [account_entry(OPERATOR, FUNDS, ["meter_operator"]),
                       account_entry(GATEWAY, FUNDS)]


def met_chain(section: dict[str, Any] | None = None) -> Chain:
    """A chain with 15-minute intervals and zone ``north`` operated by DSO."""
    genesis = make_genesis(metering_accounts(), params={"interval_ms": INTERVAL_MS})
    if section is not None:
        genesis.app_state["metering"] = section
    chain = start_chain(genesis)
    send(chain, DSO, "registration", "set_zone", ZONE, "North feeder", 10**9)
    return chain


METERING = ModuleTxs("metering", b"met/", frozenset({b"met/closed"}))
met, ok, refused, q = METERING.send, METERING.ok, METERING.refused, METERING.query
metering_state = METERING.state


def add_meter(chain: Chain, meter_id: str = "M1", meter_type: str = "consumption",
              account: PrivateKey = ALICE, asset_id: int = 0, max_power_w: int = 20_000,
              submeter: bool = False, commission: bool = True) -> None:
    ok(chain, OPERATOR, "register_meter", meter_id, meter_type,
       METER_KEYS[meter_id].public_key, account.address, ZONE, asset_id, max_power_w, submeter)
    if commission:
        ok(chain, OPERATOR, "commission", meter_id)


def reading(meter_id: str, seq: int, time_ms: int, import_wh: int, export_wh: int = 0,
            signer: PrivateKey | None = None, **extra: Any) -> list[Any]:
    return sign_reading(signer or METER_KEYS[meter_id], CHAIN_ID, meter_id, seq, time_ms,
                        import_wh, export_wh, **extra)


def relay(chain: Chain, readings: list[list[Any]], gateway: PrivateKey = GATEWAY) -> TxResult:
    result = met(chain, gateway, "submit_readings", readings)
    assert result.ok, result.log
    return result


def rejections(result: TxResult) -> list[tuple[str, str]]:
    """(seq, reason) of every rejected reading of a batch."""
    return [(dict(e.attributes)["seq"], dict(e.attributes)["reason"])
            for e in result.events if e.kind == "reading_rejected"]


def intervals(chain: Chain, **owner: Any) -> dict[int, tuple[int, int, bool]]:
    """start ms -> (import, export, estimated) of a meter, account or zone."""
    return {i["start_ms"]: (i["import_wh"], i["export_wh"], i["estimated"])
            for i in q(chain, "intervals", **owner)["intervals"]}


__all__ = ["ALICE", "BOB", "DSO", "ZONE"]
