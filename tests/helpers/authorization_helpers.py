"""The world the authorization matrix runs in: one account per role and the
records each handler acts on, so that a tx can only fail for who sent it.

``world()`` builds, block by block (every invariant checked):

* zones ``north`` (operated by ``dso_here``) and ``south`` (``dso_other``);
* the producer's assets in north: ``solar`` (active, certified, meter PV1),
  ``storage`` (active, meter BAT1, offering flexibility), ``submitted``,
  ``attested``, and ``suspended`` (suspended by dso_here); all attested by
  ``certifier``;
* meters registered by ``meter_operator``: PV1, BAT1, HOME1 (the household's
  grid meter, active) and SPARE1 (registered, not commissioned);
* a tariff of north in force, a closed billing period, a settled trade whose
  certificate the household holds, and an open buy order of the household;
* zone ``west`` operated by ``former_dso``, whose dso role the admin revoked
  (after it declared an emergency there and set its imbalance bounds).

``outcome(world, role, tx)`` executes one tx (after the case's setup txs, in
the same block) WITHOUT applying it: every case sees the same state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from chain_helpers import (
    CHAIN_ID,
    Chain,
    account_entry,
    execute,
    key,
    make_genesis,
    make_tx,
    nonce,
    query,
    run_block,
    send,
    start_chain,
)
from registration_helpers import EVIDENCE, YEAR_MS, asset_args

from wattchain.crypto import PrivateKey
from wattchain.modules.metering.ingest import sign_reading
from wattchain.vm.execution import TxResult

FUNDS = 10**9
INTERVAL_MS = 60_000
ROLE_ACCOUNTS: dict[str, list[str]] = {
    "none": [],
    "household": ["consumer"],
    "producer": ["producer"],
    "dso_here": ["dso"],
    "dso_other": ["dso"],
    "meter_operator": ["meter_operator"],
    "meter_operator_other": ["meter_operator"],
    "certifier": ["certifier"],
    "certifier_other": ["certifier"],
    "oracle": ["oracle"],
    "admin": ["admin"],
    "issuer": ["issuer"],
    "validator": ["validator"],
    "former_dso": ["dso"],  # loses the role during setup
}
KEYS: dict[str, PrivateKey] = {role: key(100 + i) for i, role in enumerate(ROLE_ACCOUNTS)}
METER_KEYS: dict[str, PrivateKey] = {m: key(150 + i) for i, m in
                                     enumerate(("PV1", "BAT1", "HOME1", "SPARE1", "NEW1"))}
NEW_KEY = key(170)  # for rotate_key and set_validator
TARIFF_REST = [0, [5, 6], [], [["day", 300_000, 80_000], ["night", 220_000, 60_000]],
               [[1] * 7 + [0] * 15 + [1] * 2] * 3, 0]


@dataclass
class World:
    chain: Chain
    assets: dict[str, int] = field(default_factory=dict)
    certificate: int = 0
    order: int = 0
    bill_period: tuple[int, int] = (0, 0)
    far_interval: int = 0
    home_seq: int = 0


def ok(chain: Chain, role: str, module: str, method: str, *args: Any) -> TxResult:
    result = send(chain, KEYS[role], module, method, *args)
    assert result.ok, (role, module, method, result.log)
    return result


def event(result: TxResult, kind: str) -> dict[str, str]:
    (found,) = [e for e in result.events if e.kind == kind]
    return dict(found.attributes)


def run_until(chain: Chain, time_ms: int) -> None:
    while chain.time_ms < time_ms:
        run_block(chain, [])


def boundary(chain: Chain, ahead: int) -> int:
    """The interval start ``ahead`` intervals after the current one."""
    return (chain.time_ms // INTERVAL_MS + ahead) * INTERVAL_MS


def reading(meter: str, seq: int, time_ms: int, import_wh: int, export_wh: int) -> list[Any]:
    return sign_reading(METER_KEYS[meter], CHAIN_ID, meter, seq, time_ms, import_wh, export_wh)


def start() -> Chain:
    genesis = make_genesis([account_entry(KEYS[r], FUNDS, roles)
                            for r, roles in ROLE_ACCOUNTS.items()])
    genesis.app_state["accounts"]["accounts"][0]["roles"] = []  # the faucet: no roles
    return start_chain(genesis)


def add_asset(world: World, name: str, **overrides: Any) -> int:
    result = ok(world.chain, "producer", "registration", "add_asset", *asset_args(**overrides))
    world.assets[name] = int(event(result, "asset_registered")["asset_id"])
    return world.assets[name]


def verify(world: World, name: str, *steps: str) -> None:
    """attest (certifier) and approve (dso_here) the asset, as far as ``steps`` say."""
    asset = world.assets[name]
    revision = int(query(world.chain, "registration/asset", asset_id=asset)["revision"])
    if "attest" in steps:
        ok(world.chain, "certifier", "registration", "attest", asset, revision, EVIDENCE)
    if "approve" in steps:
        ok(world.chain, "dso_here", "registration", "approve", asset, revision)


def setup_registry(world: World) -> None:
    chain = world.chain
    ok(chain, "dso_here", "registration", "set_zone", "north", "North feeder", 10**9)
    ok(chain, "dso_other", "registration", "set_zone", "south", "South feeder", 10**9)
    ok(chain, "producer", "registration", "register_producer", "Sunny Farm", "business",
       "mailto:farm@example.org", "{}")
    add_asset(world, "solar", capacity_w=60_000, serial="SN-SOLAR", meter="PV1", zone="north")
    add_asset(world, "storage", asset_type="storage", capacity_w=5_000, energy_wh=20_000,
              serial="SN-BAT", meter="BAT1", zone="north")
    add_asset(world, "submitted", serial="SN-SUB", zone="north")
    add_asset(world, "attested", serial="SN-ATT", zone="north")
    add_asset(world, "suspended", serial="SN-SUS", zone="north")
    for name in ("solar", "storage", "suspended"):
        verify(world, name, "attest", "approve")
    verify(world, "attested", "attest")
    ok(chain, "dso_here", "registration", "suspend", world.assets["suspended"], "inspection")
    ok(chain, "certifier", "registration", "certify", world.assets["solar"], "I-REC",
       "IREC-1", chain.time_ms, chain.time_ms + YEAR_MS)


def setup_meters(world: World) -> None:
    chain, assets = world.chain, world.assets
    household = KEYS["household"].address
    producer = KEYS["producer"].address
    for meter, meter_type, account, asset in (
            ("PV1", "production", producer, assets["solar"]),
            ("BAT1", "storage", producer, assets["storage"]),
            ("HOME1", "consumption", household, 0),
            ("SPARE1", "consumption", producer, 0)):
        ok(chain, "meter_operator", "metering", "register_meter", meter, meter_type,
           METER_KEYS[meter].public_key, account, "north", asset, 100_000, False)
        if meter != "SPARE1":
            ok(chain, "meter_operator", "metering", "commission", meter)
    ok(chain, "producer", "balancing", "offer_flex", assets["storage"], 2_000, 2_000, 900, 0,
       10_000, 50_000, 10_000, 5)


def setup_market(world: World) -> None:
    """A tariff in force, a settled trade and its certificate, a billed-able period."""
    chain = world.chain
    tariff_from = boundary(chain, 2)
    ok(chain, "dso_here", "metering", "set_tariff", "north", tariff_from, *TARIFF_REST)
    interval = boundary(chain, 4)
    ok(chain, "household", "trading", "place_order", "buy", "north", interval, 100, 100_000,
       0, 0, b"", 0)
    ok(chain, "producer", "trading", "place_order", "sell", "north", interval, 100, 100_000,
       0, 0, b"", world.assets["solar"])
    run_until(chain, interval + INTERVAL_MS)
    result = ok(chain, "oracle", "metering", "submit_readings", [
        reading("PV1", 1, interval, 0, 0), reading("PV1", 2, interval + INTERVAL_MS, 0, 100),
        reading("HOME1", 1, tariff_from, 0, 0),
        reading("HOME1", 2, interval + INTERVAL_MS, 500, 0)])
    assert event(result, "readings")["rejected"] == "0"
    world.home_seq = 2
    run_until(chain, interval + 4 * INTERVAL_MS)  # past the settlement delay
    owner = "0x" + KEYS["household"].address.hex()
    (certificate,) = query(chain, "trading/certificates", owner=owner)["certificates"]
    world.certificate = certificate["certificate_id"]
    world.bill_period = (tariff_from, tariff_from + INTERVAL_MS)
    world.far_interval = boundary(chain, 120)
    result = ok(chain, "household", "trading", "place_order", "buy", "north",
                world.far_interval, 100, 100_000, 0, 0, b"", 0)
    world.order = int(event(result, "order_placed")["order_id"])


def setup_former_dso(world: World) -> None:
    chain = world.chain
    ok(chain, "former_dso", "registration", "set_zone", "west", "West feeder", 10**9)
    ok(chain, "former_dso", "balancing", "set_imbalance_bounds", "west", 0, 400_000)
    ok(chain, "former_dso", "balancing", "declare_emergency", "west", "shortage", 1,
       7 * 86_400_000)
    ok(chain, "admin", "accounts", "revoke_role", KEYS["former_dso"].address, "dso")


def world() -> World:
    built = World(start())
    setup_registry(built)
    setup_meters(built)
    setup_market(built)
    setup_former_dso(built)
    return built


Step = tuple[str, str, str, list[Any]]  # (role, module, method, args)


def outcome(built: World, steps: Sequence[Step]) -> TxResult:
    """Execute ``steps`` in one block over the world's state, without applying it; the
    setup steps must succeed; the result of the last one."""
    chain = built.chain
    next_nonce: dict[str, int] = {}
    txs = []
    for role, module, method, args in steps:
        signer = KEYS[role]
        current = next_nonce.get(role, nonce(chain, signer))
        next_nonce[role] = current + 1
        txs.append(make_tx(signer, current, module, method, args))
    results = execute(chain, txs).tx_results
    for result in results[:-1]:
        assert result.ok, ("setup step failed", result.log)
    return results[-1]
