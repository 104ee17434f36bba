"""Builders for the registration tests: a chain with a DSO, certifiers and
producers, and one-line helpers for each step of the asset workflow."""

from __future__ import annotations

from typing import Any

from chain_helpers import (
    ALICE,
    BOB,
    CAROL,
    Chain,
    ModuleTxs,
    account_entry,
    key,
    make_genesis,
    start_chain,
)

from wattchain.crypto import PrivateKey
from wattchain.hashing import sha256
from wattchain.vm.execution import TxResult

DSO = key(10)
OTHER_DSO = key(11)
CERTIFIER = key(12)
OTHER_CERTIFIER = key(13)
PRODUCERS = (ALICE, BOB)
ZONE = "north"
EVIDENCE = sha256(b"inspection report: 24 panels, 2 strings, inverter checked")
COMMISSIONED_MS = 1_700_000_000_000
FUNDS = 10**9


def registration_accounts() -> list[dict[str, Any]]:
    return [
        account_entry(DSO, FUNDS, ["dso"]),
        account_entry(OTHER_DSO, FUNDS, ["dso"]),
        account_entry(CERTIFIER, FUNDS, ["certifier"]),
        account_entry(OTHER_CERTIFIER, FUNDS, ["certifier"]),
        account_entry(ALICE, FUNDS, ["producer"]),
        account_entry(BOB, FUNDS, ["producer", "certifier"]),
        account_entry(CAROL, FUNDS),
    ]


def reg_chain(section: dict[str, Any] | None = None) -> Chain:
    genesis = make_genesis(registration_accounts())
    if section is not None:
        genesis.app_state["registration"] = section
    return start_chain(genesis)


REGISTRATION = ModuleTxs("registration", b"reg/")
send, ok, refused, q = REGISTRATION.send, REGISTRATION.ok, REGISTRATION.refused, REGISTRATION.query
registration_state = REGISTRATION.state


def attributes(result: TxResult, kind: str) -> dict[str, str]:
    (event,) = [e for e in result.events if e.kind == kind]
    return dict(event.attributes)


def asset_args(asset_type: str = "solar", capacity_w: int = 8_000, energy_wh: int = 0,
               zone: str = ZONE, serial: str = "SN-0001", meter: str = "",
               latitude: Any = 52_520_008, longitude: Any = 13_404_954,
               manufacturer: str = "SunWorks", unit_count: int = 24) -> list[Any]:
    return [asset_type, capacity_w, energy_wh, zone, "CP-17", latitude, longitude,
            COMMISSIONED_MS, manufacturer, "SW-330", serial, "InvertaMax 8", unit_count, meter]


def setup_zone(chain: Chain, hosting_w: int = 100_000, zone: str = ZONE,
               dso: PrivateKey = DSO) -> None:
    ok(chain, dso, "set_zone", zone, f"{zone} feeder", hosting_w)


def setup_producer(chain: Chain, who: PrivateKey = ALICE, kind: str = "household") -> None:
    ok(chain, who, "register_producer", "Rooftop Collective", kind,
       "mailto:energy@example.org", '{"site":"Lindenstrasse 5"}')


def add_asset(chain: Chain, who: PrivateKey = ALICE, **overrides: Any) -> int:
    result = ok(chain, who, "add_asset", *asset_args(**overrides))
    return int(attributes(result, "asset_registered")["asset_id"])


def revision(chain: Chain, asset_id: int) -> int:
    return int(q(chain, "asset", asset_id=asset_id)["revision"])


def attest(chain: Chain, asset_id: int, certifier: PrivateKey = CERTIFIER) -> TxResult:
    return send(chain, certifier, "attest", asset_id, revision(chain, asset_id), EVIDENCE)


def approve(chain: Chain, asset_id: int, dso: PrivateKey = DSO) -> TxResult:
    return send(chain, dso, "approve", asset_id, revision(chain, asset_id))


def activate(chain: Chain, asset_id: int) -> None:
    for result in (attest(chain, asset_id), approve(chain, asset_id)):
        assert result.ok, result.log


def ready_chain(hosting_w: int = 100_000) -> Chain:
    """A zone, and Alice and Bob with producer profiles."""
    chain = reg_chain()
    setup_zone(chain, hosting_w)
    setup_producer(chain, ALICE)
    setup_producer(chain, BOB, "business")
    return chain


YEAR_MS = 365 * 24 * 3600 * 1000


def status(chain: Chain, asset_id: int) -> str:
    return str(q(chain, "asset", asset_id=asset_id)["status"])


def certify(chain: Chain, asset_id: int, certificate: str = "IREC-0001",
            signer: PrivateKey = CERTIFIER, scheme: str = "I-REC", start: int | None = None,
            end: int | None = None) -> Any:
    start = chain.time_ms if start is None else start
    end = start + YEAR_MS if end is None else end
    return send(chain, signer, "certify", asset_id, scheme, certificate, start, end)


def registry(chain: Chain) -> Any:
    return chain.vm.by_name["registration"].registry  # type: ignore[attr-defined]


def populated_chain() -> Chain:
    """north: Alice's solar (active), Alice's storage (submitted), Bob's wind (revoked);
    south (other DSO): Bob's hydro (suspended)."""
    chain = ready_chain()
    setup_zone(chain, 50_000, "south", OTHER_DSO)
    activate(chain, add_asset(chain))
    add_asset(chain, asset_type="storage", capacity_w=5_000, energy_wh=20_000, serial="BAT-1")
    wind = add_asset(chain, BOB, asset_type="wind", capacity_w=30_000, serial="WT-1")
    ok(chain, BOB, "revoke", wind, "turbine removed")
    hydro = add_asset(chain, BOB, asset_type="hydro", capacity_w=40_000, serial="HY-1",
                      zone="south")
    assert attest(chain, hydro).ok and approve(chain, hydro, OTHER_DSO).ok
    ok(chain, OTHER_DSO, "suspend", hydro, "low water")
    return chain
