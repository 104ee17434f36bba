"""Readings relayed in gateway batches: every check of a reading, rejections
as events that change nothing, gap estimation and replacement, and interval
aggregation per meter, account and zone."""

from __future__ import annotations

from chain_helpers import ALICE, BOB, CHAIN_ID, format_address, run_block
from metering_helpers import (
    GATEWAY,
    INTERVAL_MS,
    METER_KEYS,
    T0,
    ZONE,
    add_meter,
    intervals,
    met,
    met_chain,
    metering_state,
    q,
    reading,
    rejections,
    relay,
)

from wattchain.modules.metering.errors import BatchTooLarge
from wattchain.modules.metering.ingest import sign_reading

I = INTERVAL_MS  # noqa: E741 - reads like the maths


def started() -> object:
    chain = met_chain()
    add_meter(chain)
    relay(chain, [reading("M1", 1, T0, 1_000)])
    return chain


def test_a_batch_is_accepted_and_aggregated_per_interval() -> None:
    chain = met_chain()
    add_meter(chain)
    add_meter(chain, "M2", "net", account=BOB)
    result = relay(chain, [
        reading("M1", 1, T0, 1_000, power_w=800, voltage_mv=230_100),
        reading("M1", 2, T0 + I, 1_600), reading("M1", 3, T0 + 2 * I, 1_900),
        reading("M2", 1, T0, 0, 0), reading("M2", 2, T0 + I, 50, 400)])
    assert rejections(result) == []
    assert intervals(chain, meter_id="M1") == {T0: (600, 0, False), T0 + I: (300, 0, False)}
    assert intervals(chain, account=format_address(BOB.address)) == {T0: (50, 400, False)}
    assert intervals(chain, zone_id=ZONE) == {T0: (650, 400, False), T0 + I: (300, 0, False)}
    stored = q(chain, "readings", meter_id="M1", from_ms=T0, to_ms=T0 + I)["readings"]
    assert stored == [{"seq": 1, "time_ms": T0, "import_wh": 1_000, "export_wh": 0,
                       "power_w": 800, "voltage_mv": 230_100}]


def test_a_span_across_a_boundary_is_split_by_time() -> None:
    chain = started()
    relay(chain, [reading("M1", 2, T0 + I + I // 2, 1_900)])  # 900 Wh over 1.5 intervals
    assert intervals(chain, meter_id="M1") == {T0: (600, 0, True), T0 + I: (300, 0, True)}


def test_each_bad_reading_is_rejected_alone_and_changes_nothing() -> None:
    chain = started()
    before = metering_state(chain)
    bad_signature = reading("M1", 2, T0 + I, 1_100)
    bad_signature[-1] = bytes(65)
    forged = reading("M1", 2, T0 + I, 1_100, signer=METER_KEYS["M2"])
    result = relay(chain, [
        bad_signature, forged,
        reading("M1", 1, T0, 1_000),  # replayed
        reading("M1", 2, T0 - 1, 1_100),  # earlier than the last reading
        reading("M1", 2, chain.time_ms + 3_600_000, 1_100),  # in the future
        reading("M1", 2, T0 + I, 999),  # register going backwards
        reading("M1", 2, T0 + I, 1_000 + 5_501),  # 22 kW on a 20 kW fuse
        reading("M9", 1, T0, 1, signer=METER_KEYS["M2"]),  # unknown meter
        ["M1", 2, "soon", 1, 1, None, None, b""],  # malformed
        "junk",
    ])
    assert [reason for _, reason in rejections(result)] == [
        "bad_signature", "bad_signature", "replayed_sequence", "time_not_monotonic",
        "future_timestamp", "register_backwards", "implausible_rate", "unknown_meter",
        "malformed", "malformed"]
    assert metering_state(chain) == before
    accepted = relay(chain, [reading("M1", 2, T0 + I, 1_000 + 5_500)])
    assert rejections(accepted) == []


def test_a_reading_signed_for_another_chain_is_refused() -> None:
    chain = started()
    other = sign_reading(METER_KEYS["M1"], CHAIN_ID + "-x", "M1", 2, T0 + I, 1_100, 0)
    assert rejections(relay(chain, [other])) == [("2", "bad_signature")]


def test_replay_of_a_whole_batch_is_refused() -> None:
    chain = started()
    batch = [reading("M1", 2, T0 + I, 1_100), reading("M1", 3, T0 + 2 * I, 1_200)]
    relay(chain, batch)
    again = relay(chain, batch)
    assert [r for _, r in rejections(again)] == ["replayed_sequence"] * 2
    assert q(chain, "meter", meter_id="M1")["import_wh"] == 1_200


def test_a_gap_is_estimated_then_replaced_by_late_readings() -> None:
    chain = started()
    relay(chain, [reading("M1", 5, T0 + 4 * I, 1_000 + 4_000)])
    estimated = intervals(chain, meter_id="M1")
    assert estimated == {T0 + k * I: (1_000, 0, True) for k in range(4)}
    assert q(chain, "meter", meter_id="M1")["gaps"] == [[1, 5]]
    result = relay(chain, [reading("M1", 2, T0 + I, 1_000 + 2_500),
                           reading("M1", 4, T0 + 3 * I, 1_000 + 3_600)])
    assert [e.kind for e in result.events].count("gap_filled") == 2
    assert intervals(chain, meter_id="M1") == {
        T0: (2_500, 0, False), T0 + I: (550, 0, True), T0 + 2 * I: (550, 0, True),
        T0 + 3 * I: (400, 0, False)}
    assert q(chain, "meter", meter_id="M1")["gaps"] == [[2, 4]]
    relay(chain, [reading("M1", 3, T0 + 2 * I, 1_000 + 3_000)])
    assert intervals(chain, meter_id="M1") == {
        T0: (2_500, 0, False), T0 + I: (500, 0, False), T0 + 2 * I: (600, 0, False),
        T0 + 3 * I: (400, 0, False)}
    assert intervals(chain, account=format_address(ALICE.address)) == intervals(
        chain, meter_id="M1")
    # a backfill must fit between its neighbours
    assert rejections(relay(chain, [reading("M1", 3, T0 + 2 * I, 1_000 + 3_000)])) == [
        ("3", "replayed_sequence")]


def test_a_backfill_that_does_not_fit_its_neighbours_is_refused() -> None:
    chain = started()
    relay(chain, [reading("M1", 4, T0 + 3 * I, 2_000)])
    result = relay(chain, [reading("M1", 2, T0 + I, 2_500),  # above the later register
                           reading("M1", 3, T0 + 4 * I, 1_500)])  # after the later reading
    assert [r for _, r in rejections(result)] == ["register_backwards", "time_not_monotonic"]


def test_submeters_stay_out_of_account_and_zone_totals() -> None:
    chain = met_chain()
    add_meter(chain)
    add_meter(chain, "SUB1", "ev_charger", submeter=True, max_power_w=11_000)
    relay(chain, [reading("M1", 1, T0, 0), reading("M1", 2, T0 + I, 900),
                  reading("SUB1", 1, T0, 0), reading("SUB1", 2, T0 + I, 700)])
    assert intervals(chain, zone_id=ZONE) == {T0: (900, 0, False)}
    assert intervals(chain, meter_id="SUB1") == {T0: (700, 0, False)}


def test_batch_limits() -> None:
    chain = met_chain({"params": {"max_readings_per_tx": 3}})
    add_meter(chain)
    result = met(chain, GATEWAY, "submit_readings", [reading("M1", 2, T0 + I, 1_001)] * 4)
    assert (result.codespace, result.code) == (BatchTooLarge.codespace, BatchTooLarge.code)
    assert not met(chain, GATEWAY, "submit_readings", []).ok


def test_end_block_closes_intervals() -> None:
    chain = met_chain()
    add_meter(chain)
    closed = q(chain, "params")["closed_until_ms"]
    assert closed % I == 0 and closed <= chain.time_ms
    chain.time_ms += I
    result = run_block(chain, [])
    events = [e for e in result.end_block_events if e.kind == "interval_closed"]
    assert dict(events[0].attributes)["start_ms"] == str(closed)
