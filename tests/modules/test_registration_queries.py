"""Registration queries, the ProducerRegistry protocol and the invariants."""

from __future__ import annotations

from typing import Any

import pytest
from chain_helpers import ALICE, BOB, CAROL, Chain
from registration_helpers import (
    ZONE,
    certify,
    populated_chain,
    q,
    refused,
    reg_chain,
    registry,
)

from wattchain.crypto import format_address
from wattchain.modules.registration import errors
from wattchain.modules.registration.errors import RegistrationError

# -- queries ---------------------------------------------------------------------------------


def ids(chain: Chain, **filters: Any) -> list[int]:
    return [a["asset_id"] for a in q(chain, "assets", **filters)["assets"]]


def test_assets_by_zone_type_status_and_owner() -> None:
    chain = populated_chain()
    alice, bob = format_address(ALICE.address), format_address(BOB.address)
    assert ids(chain) == [1, 2, 3, 4]
    assert ids(chain, zone_id=ZONE) == [1, 2, 3]
    assert ids(chain, zone_id="south") == [4]
    assert ids(chain, type="storage") == [2]
    assert ids(chain, status="revoked") == [3]
    assert ids(chain, status="suspended", zone_id="south") == [4]
    assert ids(chain, owner=alice) == [1, 2]
    assert ids(chain, owner=bob, status="revoked") == [3]
    assert ids(chain, owner=bob, type="solar") == []
    page = q(chain, "assets", limit=2)
    assert ([a["asset_id"] for a in page["assets"]], page["next_after"]) == ([1, 2], 2)
    assert ids(chain, after=2, limit=2) == [3, 4]
    assert q(chain, "assets", after=2, limit=2)["next_after"] is None
    assert q(chain, "producer", address=alice)["assets"] == [1, 2]


def test_capacity_by_zone_and_type() -> None:
    chain = populated_chain()
    zones = {z["zone_id"]: z for z in q(chain, "capacity")["zones"]}
    north, south = zones[ZONE], zones["south"]
    assert (north["active_w"], north["connected_w"], north["hosting_capacity_w"]) == (
        8_000, 8_000, 100_000)
    assert north["by_type"] == {
        "solar": {"active_w": 8_000, "connected_w": 8_000, "pending_w": 0,
                  "active_energy_wh": 0},
        "storage": {"active_w": 0, "connected_w": 0, "pending_w": 5_000,
                    "active_energy_wh": 0}}  # the revoked wind turbine is gone
    assert (south["active_w"], south["connected_w"]) == (0, 40_000)
    assert [z["zone_id"] for z in q(chain, "capacity", zone_id="south")["zones"]] == ["south"]


@pytest.mark.parametrize("path, data", [
    ("asset", {"asset_id": 99}), ("history", {"asset_id": 99}), ("zone", {"zone_id": "west"}),
    ("producer", {"address": format_address(CAROL.address)}),
    ("capacity", {"zone_id": "west"}),
])
def test_queries_for_missing_records(path: str, data: dict[str, Any]) -> None:
    chain = populated_chain()
    with pytest.raises(errors.RecordNotFound):
        q(chain, path, **data)


@pytest.mark.parametrize("path, data", [
    ("asset", {}), ("asset", {"asset_id": "1"}), ("asset", {"asset_id": True}),
    ("assets", {"type": "nuclear"}), ("assets", {"status": "sleeping"}),
    ("assets", {"owner": "0x12"}), ("assets", {"limit": 0}), ("assets", {"limit": 5_000}),
    ("producer", {}), ("producers", {"kind": "castle"}), ("zone", {}),
    ("expiring", {}), ("expiring", {"before_ms": -1}),
])
def test_queries_with_bad_data(path: str, data: dict[str, Any]) -> None:
    from wattchain.vm.errors import InvalidQuery

    with pytest.raises(InvalidQuery):
        q(reg_chain(), path, **data)


def test_producer_registry_protocol() -> None:
    chain = populated_chain()
    reg, state = registry(chain), chain.state
    assert reg.active_capacity(state, 1, chain.time_ms) == 8_000
    assert reg.active_capacity(state, 1, 0) == 0  # before commissioning
    assert [reg.active_capacity(state, i, chain.time_ms) for i in (2, 3, 4, 99)] == [0] * 4
    assert not reg.is_renewable(state, 1, chain.time_ms)  # no certification yet
    assert certify(chain, 1).ok
    assert reg.is_renewable(state, 1, chain.time_ms)
    assert not reg.is_renewable(state, 99, chain.time_ms)
    assert reg.assets_of(state, ALICE.address) == [1, 2]
    assert reg.assets_of(state, CAROL.address) == []
    assert (reg.zone_of(state, 4), reg.zone_of(state, 99)) == ("south", None)


def test_params_query_shows_the_genesis_limits() -> None:
    chain = reg_chain({"params": {"max_metadata_bytes": 64}})
    assert q(chain, "params")["max_metadata_bytes"] == 64
    refused(chain, ALICE, "register_producer", "A", "household", "mailto:a@x.org", "m" * 65,
            error=errors.MetadataTooLarge)


# -- invariants catch corruption -----------------------------------------------------------


def test_invariants_report_corrupted_state() -> None:
    from wattchain import codec
    from wattchain.modules.registration import keys
    from wattchain.modules.registration.types import Asset

    chain = populated_chain()
    module = chain.vm.by_name["registration"]
    assert module.check_invariants(chain.state) == []
    raw = chain.state.data[keys.asset_key(1)]
    asset = Asset.from_list(codec.decode(raw))
    asset.attestation = None
    chain.state.data[keys.asset_key(1)] = codec.encode(asset.to_list())
    assert any("no attestation" in p for p in module.check_invariants(chain.state))
    chain.state.data[keys.asset_key(1)] = raw
    zone_raw = chain.state.data[keys.zone_key(ZONE)]
    zone = codec.decode(zone_raw)
    zone[1] = 1_000  # hosting below what is connected
    chain.state.data[keys.zone_key(ZONE)] = codec.encode(zone)
    assert any("above its hosting" in p for p in module.check_invariants(chain.state))
    chain.state.data[keys.zone_key(ZONE)] = zone_raw
    del chain.state.data[keys.by_status_prefix("active") + keys.encode_id(1)]
    assert any("indexes" in p for p in module.check_invariants(chain.state))


def test_all_error_codes_are_distinct_and_in_the_registration_codespace() -> None:
    classes = [c for c in vars(errors).values()
               if isinstance(c, type) and issubclass(c, RegistrationError)]
    assert len({c.code for c in classes}) == len(classes)
    assert all(c.codespace == "registration" and c.code >= 100 for c in classes)
