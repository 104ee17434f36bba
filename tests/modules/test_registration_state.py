"""Registration state over time: genesis export -> import round trip, bad
genesis sections, and a hypothesis state machine of random workflow steps
that keeps every invariant after every block."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from chain_helpers import (
    ALICE,
    BOB,
    CAROL,
    FAUCET,
    Chain,
    assert_genesis_round_trip,
    export_chain,
    import_state,
    make_tx,
    nonce,
    run_block,
)
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from registration_helpers import (
    CERTIFIER,
    DSO,
    EVIDENCE,
    OTHER_CERTIFIER,
    OTHER_DSO,
    ZONE,
    activate,
    add_asset,
    approve,
    attest,
    certify,
    ok,
    q,
    ready_chain,
    reg_chain,
    registration_state,
    setup_zone,
)

from wattchain.crypto import PrivateKey, format_address
from wattchain.genesis import Genesis, GenesisError, build_genesis_state
from wattchain.modules import build_vm
from wattchain.modules.registration.types import ASSET_TYPES


def lived_in_chain() -> Chain:
    """Every kind of record: two zones, profiles, assets in each status,
    certifications, a meter binding, a re-verified update."""
    chain = ready_chain()
    setup_zone(chain, 70_000, "south", OTHER_DSO)
    solar = add_asset(chain, meter="MTR-1")
    activate(chain, solar)
    assert certify(chain, solar).ok and certify(chain, solar, "GO-7", scheme="GO").ok
    storage = add_asset(chain, BOB, asset_type="storage", capacity_w=4_000, energy_wh=9_000,
                        serial="BAT-1", zone="south")
    assert attest(chain, storage).ok and approve(chain, storage, OTHER_DSO).ok
    ok(chain, OTHER_DSO, "suspend", storage, "firmware recall")
    ok(chain, ALICE, "revoke", add_asset(chain, serial="SN-OLD"), "never built")
    ok(chain, ALICE, "update_asset", solar, 9_000, 0, "SunWorks", "SW-330", "SN-0001",
       "InvertaMax 8", 27, "MTR-1")
    add_asset(chain, BOB, asset_type="wind", capacity_w=20_000, serial="WT-1")
    return chain


def test_export_then_import_reproduces_the_state_exactly() -> None:
    chain = lived_in_chain()
    section = assert_genesis_round_trip(chain).app_state["registration"]
    assert [a["status"] for a in section["assets"]] == ["submitted", "suspended", "revoked",
                                                         "submitted"]
    assert len(section["assets"][0]["certifications"]) == 2
    assert section["next_asset_id"] == 5


def test_an_imported_chain_continues_like_the_original() -> None:
    chain = lived_in_chain()
    copy_chain = Chain(chain.vm, import_state(export_chain(chain)), chain.genesis,
        chain.app_hash, chain.genesis_app_hash, chain.height, chain.time_ms)
    txs = [make_tx(CERTIFIER, nonce(chain, CERTIFIER), "registration", "attest",
                   [1, 2, EVIDENCE]),
           make_tx(ALICE, nonce(chain, ALICE), "registration", "add_asset",
                   ["hydro", 1_000, 0, ZONE, "CP-1", 0, 0, 0, "M", "X", "SN-9", "", 1, ""])]
    assert run_block(copy_chain, txs) == run_block(chain, txs)
    assert copy_chain.state.data == chain.state.data


def test_genesis_zones_producers_and_assets_written_by_hand() -> None:
    section = {
        "params": {"max_asset_capacity_w": 50_000},
        "zones": [{"zone_id": ZONE, "name": "North", "hosting_capacity_w": 30_000,
                   "operator": format_address(DSO.address)}],
        "producers": [{"address": format_address(ALICE.address), "name": "Alice",
                       "kind": "household", "contact_uri": "mailto:a@example.org",
                       "metadata": "", "registered_height": 0, "registered_time_ms": 0}],
    }
    chain = reg_chain(section)
    assert q(chain, "zone", zone_id=ZONE)["operator"] == format_address(DSO.address)
    asset_id = add_asset(chain)
    activate(chain, asset_id)
    assert asset_id == 1 and q(chain, "capacity")["zones"][0]["active_w"] == 8_000


def genesis_with(section: dict[str, Any]) -> Genesis:
    genesis = copy.deepcopy(reg_chain().genesis)
    genesis.app_state["registration"] = section
    return genesis


def exported_section() -> dict[str, Any]:
    chain = lived_in_chain()
    return copy.deepcopy(export_chain(chain).app_state["registration"])


def broken(change: Any) -> dict[str, Any]:
    section = exported_section()
    change(section)
    return section


BAD_SECTIONS = {
    "unknown field": ({"casino": 1}, "casino"),
    "unknown param": ({"params": {"max_gas": 1}}, "max_gas"),
    "zero param": ({"params": {"max_metadata_bytes": 0}}, "max_metadata_bytes"),
    "zones not a list": ({"zones": {}}, "zones"),
    "bad zone id": ({"zones": [{"zone_id": "a b", "name": "x", "hosting_capacity_w": 1,
                                "operator": "0x" + "00" * 20}]}, r"zones\[0\]"),
    "duplicate zone": (broken(lambda s: s["zones"].append(s["zones"][0])), "duplicate zone"),
    "unknown kind": (broken(lambda s: s["producers"][0].update(kind="castle")),
                     r"producers\[0\]"),
    "asset in an unknown zone": (broken(lambda s: s["zones"].pop()), "zone"),
    "active without approval": (broken(lambda s: s["assets"][1].update(approval=None)),
                                r"assets\[1\].*approval"),
    "above hosting capacity": (broken(lambda s: s["zones"][1].update(hosting_capacity_w=10)),
                               "hosting capacity"),
    "duplicate serial": (broken(lambda s: s["assets"][3]["equipment"].update(
        serial="SN-0001")), r"assets\[3\].*serial"),
    "unknown status": (broken(lambda s: s["assets"][0].update(status="asleep")), "status"),
    "capacity above the limit": (broken(lambda s: s["assets"][0].update(capacity_w=10**12)),
                                 r"assets\[0\].*capacity"),
    "next id too low": (broken(lambda s: s.update(next_asset_id=2)), "next_asset_id"),
    "owner without a profile": (broken(lambda s: s["producers"].clear()), "profile"),
    "malformed history": (broken(lambda s: s["assets"][0]["history"].append({"height": 1})),
                          r"assets\[0\]\.history\[\d+\]"),
    "duplicate certificate": (broken(lambda s: s["assets"][3]["certifications"].extend(
        s["assets"][0]["certifications"])), "duplicate certificate"),
}


@pytest.mark.parametrize("section, field", list(BAD_SECTIONS.values()), ids=list(BAD_SECTIONS))
def test_bad_genesis_section_names_the_problem(section: dict[str, Any], field: str) -> None:
    with pytest.raises(GenesisError, match=field):
        build_genesis_state(build_vm(), genesis_with(section))


# -- random workflows keep the invariants ------------------------------------------------------

# Mostly the right role for each step (so workflows get far), sometimes the wrong one.
owners = st.sampled_from([ALICE, ALICE, BOB, CAROL])
certifiers = st.sampled_from([CERTIFIER, OTHER_CERTIFIER, BOB, ALICE])
dsos = st.sampled_from([DSO, OTHER_DSO, DSO, CAROL])
actors = st.sampled_from([ALICE, BOB, CAROL, DSO, OTHER_DSO, CERTIFIER, OTHER_CERTIFIER,
                          FAUCET])
asset_ids = st.integers(1, 5)
capacities = st.sampled_from([0, 1_000, 5_000, 20_000, 45_000])


class RegistrationMachine(RuleBasedStateMachine):
    """Random steps by random accounts; run_block checks every invariant after each
    block, and a refused tx must leave registration state as it was."""

    def __init__(self) -> None:
        super().__init__()
        self.chain = ready_chain(hosting_w=50_000)
        setup_zone(self.chain, 30_000, "south", OTHER_DSO)
        self.serials = 0

    @initialize()
    def seed_assets(self) -> None:
        """Three submitted assets, so most steps find something to act on."""
        for owner, zone, capacity in ((ALICE, ZONE, 20_000), (BOB, ZONE, 30_000),
                                      (ALICE, "south", 25_000)):
            self.add(owner, "solar", capacity, zone, reuse_serial=False)

    def step(self, *calls: tuple[PrivateKey, str, list[Any]]) -> None:
        before = registration_state(self.chain)
        txs, nonces = [], dict[bytes, int]()
        for signer, method, args in calls:
            next_nonce = nonces.get(signer.address, nonce(self.chain, signer))
            nonces[signer.address] = next_nonce + 1
            txs.append(make_tx(signer, next_nonce, "registration", method, args))
        results = run_block(self.chain, txs).tx_results
        if not any(result.ok for result in results):
            assert registration_state(self.chain) == before

    def revision(self, asset_id: int) -> int:
        asset = self.chain.vm.by_name["registration"].keeper.get_asset(  # type: ignore[attr-defined]
            self.chain.state, asset_id)
        return 1 if asset is None else int(asset.revision)

    @rule(owner=owners, asset_type=st.sampled_from(ASSET_TYPES), capacity=capacities,
          zone=st.sampled_from([ZONE, ZONE, "south", "west"]), reuse_serial=st.booleans())
    def add(self, owner: PrivateKey, asset_type: str, capacity: int, zone: str,
            reuse_serial: bool) -> None:
        self.serials += 0 if reuse_serial and self.serials else 1
        energy = capacity * 2 if asset_type == "storage" else 0
        self.step((owner, "add_asset", [asset_type, capacity, energy, zone, "CP", 0, 0, 0,
                                        "Make", "Model", f"SN-{self.serials}", "", 1, ""]))

    @rule(asset_id=asset_ids)
    def advance(self, asset_id: int) -> None:
        """The natural next step by the right account, so deep states are reached."""
        keeper = self.chain.vm.by_name["registration"].keeper  # type: ignore[attr-defined]
        asset = keeper.get_asset(self.chain.state, asset_id)
        if asset is None:
            return
        operator = OTHER_DSO if asset.zone_id == "south" else DSO
        certifier = OTHER_CERTIFIER if asset.owner == BOB.address else CERTIFIER
        moves = {"submitted": (certifier, "attest", [asset_id, asset.revision, EVIDENCE]),
                 "attested": (operator, "approve", [asset_id, asset.revision]),
                 "active": (operator, "suspend", [asset_id, "maintenance"]),
                 "suspended": (operator, "reinstate", [asset_id, "back"])}
        if asset.status in moves:
            self.step(moves[asset.status])

    @rule(certifier=certifiers, asset_id=asset_ids)
    def attest(self, certifier: PrivateKey, asset_id: int) -> None:
        self.step((certifier, "attest", [asset_id, self.revision(asset_id), EVIDENCE]))

    @rule(dso=dsos, asset_id=asset_ids)
    def approve(self, dso: PrivateKey, asset_id: int) -> None:
        self.step((dso, "approve", [asset_id, self.revision(asset_id)]))

    @rule(actor=actors, asset_id=asset_ids,
          action=st.sampled_from(["suspend", "reinstate", "revoke"]))
    def authority(self, actor: PrivateKey, asset_id: int, action: str) -> None:
        self.step((actor, action, [asset_id, f"{action} by hypothesis"]))

    @rule(asset_id=asset_ids, capacity=capacities)
    def update(self, asset_id: int, capacity: int) -> None:
        self.step((ALICE, "update_asset", [asset_id, capacity, 0, "Make", "Model",
                                           f"SN-{asset_id}", "", 1, ""]))

    @rule(dso=st.sampled_from([DSO, OTHER_DSO]), zone=st.sampled_from([ZONE, "south"]),
          hosting=st.sampled_from([1_000, 25_000, 50_000, 100_000]))
    def set_zone(self, dso: PrivateKey, zone: str, hosting: int) -> None:
        self.step((dso, "set_zone", [zone, zone, hosting]))

    @rule(asset_id=asset_ids, certificate=st.integers(1, 4))
    def certify(self, asset_id: int, certificate: int) -> None:
        now = self.chain.time_ms
        self.step((CERTIFIER, "certify", [asset_id, "GO", f"GO-{certificate}", now,
                                          now + 5_000]))

    @rule(asset_id=asset_ids, first=dsos, second=actors)
    def race(self, asset_id: int, first: PrivateKey, second: PrivateKey) -> None:
        """Two steps on one asset in one block: the second sees the first's writes."""
        revision = self.revision(asset_id)
        self.step((first, "approve", [asset_id, revision]),
                  (second, "revoke", [asset_id, "race"]))

    @invariant()
    def history_ends_in_the_current_status(self) -> None:
        keeper = self.chain.vm.by_name["registration"].keeper  # type: ignore[attr-defined]
        for asset_id, asset in keeper.iterate_assets(self.chain.state):
            assert keeper.history(self.chain.state, asset_id)[-1].status == asset.status


TestRegistrationMachine = RegistrationMachine.TestCase
TestRegistrationMachine.settings = settings(
    max_examples=60, stateful_step_count=40, derandomize=True, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
