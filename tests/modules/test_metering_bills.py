"""Time-of-use tariffs (versions, band boundaries in a UTC offset, weekends,
holidays) and bills that anyone can recompute from on-chain data."""

from __future__ import annotations

from typing import Any

from chain_helpers import ALICE, BOB, CAROL, Chain, format_address, run_block
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from metering_helpers import (
    INTERVAL_MS,
    OPERATOR,
    ZONE,
    add_meter,
    met,
    met_chain,
    ok,
    q,
    reading,
    refused,
    relay,
)
from registration_helpers import DSO

from wattchain.genesis.presets import DEVNET_GENESIS_TIME_MS
from wattchain.modules.metering import errors
from wattchain.modules.metering.billing import compute_bill
from wattchain.modules.metering.bills import tariff_from_json
from wattchain.modules.metering.tariffs import DAY_MS, HOUR_MS
from wattchain.modules.metering.views import energy_from_json

I = INTERVAL_MS  # noqa: E741 - reads like the maths
# 2026-01-02 00:00 UTC, a Friday; the tariff's zone is UTC+1.
E = DEVNET_GENESIS_TIME_MS + DAY_MS
WEEKDAY = [0] * 7 + [1] * 10 + [2] * 4 + [0] * 3
BANDS = [["off-peak", 150_000, 50_000], ["shoulder", 250_000, 60_000],
         ["peak", 400_000, 80_000]]
HOLIDAY = (DEVNET_GENESIS_TIME_MS + 5 * DAY_MS) // DAY_MS  # Tuesday 2026-01-06


def tariff_args(effective_from: int = E, bands: list[Any] | None = None,
                standing: int = 400_000) -> list[Any]:
    return [ZONE, effective_from, 60, [5, 6], [HOLIDAY], bands or BANDS,
            [WEEKDAY, [0] * 24, [0] * 24], standing]


def band(chain: Chain, time_ms: int) -> tuple[str, str]:
    value = q(chain, "band", zone_id=ZONE, time_ms=time_ms)
    return value["day_type"], value["band"]


def test_tariff_versions_and_band_boundaries() -> None:
    chain = met_chain()
    refused(chain, ALICE, "set_tariff", *tariff_args(), error=errors.MissingRole)
    refused(chain, DSO, "set_tariff", *tariff_args(chain.time_ms),
            error=errors.TariffNotInFuture)
    refused(chain, DSO, "set_tariff", *tariff_args()[:6], [[0] * 24] * 2, 0,
            error=errors.InvalidTariff)
    bad = tariff_args()
    bad[6] = [WEEKDAY, [3] * 24, [0] * 24]
    refused(chain, DSO, "set_tariff", *bad, error=errors.InvalidTariff)
    ok(chain, DSO, "set_tariff", *tariff_args())
    flat = tariff_args(E + 7 * DAY_MS, [["flat", 1, 0]])
    flat[6] = [[0] * 24] * 3
    ok(chain, DSO, "set_tariff", *flat)
    assert len(q(chain, "tariffs", zone_id=ZONE)["versions"]) == 2
    # local 07:00 (UTC+1) is 06:00 UTC: the shoulder starts exactly there
    assert band(chain, E + 6 * HOUR_MS - 1) == ("weekday", "off-peak")
    assert band(chain, E + 6 * HOUR_MS) == ("weekday", "shoulder")
    assert band(chain, E + 16 * HOUR_MS) == ("weekday", "peak")
    assert band(chain, E + 20 * HOUR_MS - 1) == ("weekday", "peak")
    assert band(chain, E + 20 * HOUR_MS) == ("weekday", "off-peak")
    # Friday 23:00 UTC is Saturday 00:00 local
    assert band(chain, E + 23 * HOUR_MS) == ("weekend", "off-peak")
    assert band(chain, E + 4 * DAY_MS + 12 * HOUR_MS) == ("holiday", "off-peak")
    assert band(chain, E + 3 * DAY_MS + 12 * HOUR_MS) == ("weekday", "shoulder")
    assert band(chain, E + 7 * DAY_MS)[1] == "flat"
    assert "no tariff" in str(_error(chain, E - 1))


def _error(chain: Chain, time_ms: int) -> Exception | None:
    try:
        band(chain, time_ms)
    except Exception as exc:  # noqa: BLE001 - the query's error is the point
        return exc
    return None


def billed_chain(energies: list[tuple[int, int]], standing: int = 400_000) -> Chain:
    """A day of readings from E, one per interval, with these per-interval deltas."""
    chain = met_chain()
    add_meter(chain, "NET1", "net", max_power_w=10**9)
    ok(chain, DSO, "set_tariff", *tariff_args(standing=standing))
    chain.time_ms = E + 2 * DAY_MS
    registers = [0, 0]
    batch = [reading("NET1", 1, E, 0, 0)]
    for index, (import_wh, export_wh) in enumerate(energies):
        registers = [registers[0] + import_wh, registers[1] + export_wh]
        batch.append(reading("NET1", index + 2, E + (index + 1) * I, *registers))
    for chunk in range(0, len(batch), 100):
        relay(chain, batch[chunk:chunk + 100])
    return chain


def test_a_bill_prices_each_band_and_verifies() -> None:
    energies = [(1_000, 0)] * 96  # 4 kW flat for a day, no export
    energies[40] = (1_000, 2_000)  # 10:00 UTC = 11:00 local: shoulder feed-in
    chain = billed_chain(energies)
    alice = format_address(ALICE.address)
    refused(chain, CAROL, "issue_bill", ALICE.address, E, E + DAY_MS, error=errors.MissingRole)
    refused(chain, ALICE, "issue_bill", ALICE.address, E + 1, E + DAY_MS,
            error=errors.InvalidPeriod)
    refused(chain, ALICE, "issue_bill", ALICE.address, E, E + 3 * DAY_MS,
            error=errors.InvalidPeriod)
    refused(chain, OPERATOR, "issue_bill", BOB.address, E, E + DAY_MS, error=errors.NoTariff)
    ok(chain, ALICE, "issue_bill", ALICE.address, E, E + DAY_MS)
    refused(chain, ALICE, "issue_bill", ALICE.address, E, E + DAY_MS, error=errors.BillExists)
    bill = q(chain, "bill", account=alice, start_ms=E, end_ms=E + DAY_MS)
    lines = {(line["kind"], line["band"]): line for line in bill["lines"]}
    # Friday UTC+1: off-peak 00-06 UTC and 20-23 UTC (9 h), shoulder 06-16 (10 h),
    # peak 16-20 (4 h); 23:00-24:00 UTC is Saturday local, off-peak too.
    assert lines[("import", "off-peak")]["quantity"] == 10 * 4_000
    assert lines[("import", "shoulder")]["quantity"] == 10 * 4_000
    assert lines[("import", "peak")]["amount"] == 16_000 * 400_000 // 1000
    assert lines[("export", "shoulder")]["amount"] == -(2_000 * 60_000 // 1000)
    assert lines[("standing", "")]["amount"] == 400_000
    assert bill["total"] == sum(line["amount"] for line in bill["lines"])
    assert q(chain, "verify_bill", account=alice, start_ms=E, end_ms=E + DAY_MS)["matches"]
    assert recomputed(chain, bill) == bill["total"]


def recomputed(chain: Chain, bill: dict[str, Any]) -> int:
    """What `wattchain bill verify` does: recompute from query results alone."""
    alice = bill["account"]
    energy = [energy_from_json(e) for e in q(chain, "intervals", account=alice,
                                             from_ms=bill["start_ms"],
                                             to_ms=bill["end_ms"])["intervals"]]
    versions = [tariff_from_json(v) for v in q(chain, "tariffs", zone_id=ZONE)["versions"]]
    return int(compute_bill(bill["start_ms"], bill["end_ms"], energy, versions)[1])


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(st.tuples(st.integers(0, 5_000), st.integers(0, 5_000)), min_size=1,
                max_size=40),
       st.integers(0, 10**6), st.integers(1, 40), st.integers(0, 39))
def test_a_recomputed_bill_always_equals_the_stored_one(
        energies: list[tuple[int, int]], standing: int, length: int, offset: int) -> None:
    chain = billed_chain(energies, standing)
    start = E + min(offset, length - 1) * I
    end = E + length * I
    result = met(chain, ALICE, "issue_bill", ALICE.address, start, max(end, start + I))
    assert result.ok, result.log
    run_block(chain, [])
    alice = format_address(ALICE.address)
    bill = q(chain, "bill", account=alice, start_ms=start, end_ms=max(end, start + I))
    assert q(chain, "verify_bill", account=alice, start_ms=start,
             end_ms=bill["end_ms"])["matches"]
    assert recomputed(chain, bill) == bill["total"]
