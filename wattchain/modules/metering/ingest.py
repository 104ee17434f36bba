"""The ``submit_readings`` handler: a gateway relays a batch of signed readings.

Each reading ``[meter_id, seq, time_ms, import_wh, export_wh, power_w | None,
voltage_mv | None, signature]`` is checked on its own; a refused reading
emits ``reading_rejected`` with its reason and changes nothing, while the
rest of the batch goes on. The tx fails as a whole only when the batch itself
is malformed or too large. Anyone may relay: the meter's signature, not the
gateway, vouches for a reading.

Checks, in order: shape; meter known and active; the meter key's signature
over ``sign_bytes(READING_DOMAIN, chain_id, encode(fields))``; then either
a *new* reading (sequence above the last: time strictly later and not
beyond block time plus a tolerance, registers not backwards, rate within the
meter's power limit) or a *backfill* (a sequence missing between two stored
ones: time and registers strictly between theirs and plausible on each side),
which replaces the estimate of that gap. Any other sequence is a replay.
"""

from __future__ import annotations

from typing import Any

from wattchain import codec
from wattchain.crypto import PrivateKey, recover_signer, sign_bytes
from wattchain.errors import SignatureError
from wattchain.modules.metering.errors import BatchTooLarge
from wattchain.modules.metering.keeper import MeteringKeeper
from wattchain.modules.metering.spans import interval_start, is_plausible
from wattchain.modules.metering.types import (
    ACTIVE,
    READING_DOMAIN,
    Meter,
    MeteringParams,
    Reading,
)
from wattchain.vm.errors import InvalidArgs
from wattchain.vm.fields import METER_ID, expect_args
from wattchain.vm.interface import Context

MAX_REGISTER = (1 << 62) - 1


class Rejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def reading_payload(meter_id: str, seq: int, time_ms: int, import_wh: int, export_wh: int,
                    power_w: int | None, voltage_mv: int | None) -> bytes:
    """The bytes a meter signs (inside ``sign_bytes`` with READING_DOMAIN)."""
    return codec.encode([meter_id, seq, time_ms, import_wh, export_wh, power_w, voltage_mv])


def _is_count(value: Any, allow_none: bool = False) -> bool:
    if value is None:
        return allow_none
    return type(value) is int and 0 <= value <= MAX_REGISTER


def parse_reading(item: Any) -> tuple[str, int, Reading, bytes]:
    """(meter id, seq, reading, signature) or Rejected("malformed")."""
    if type(item) is not list or len(item) != 8:
        raise Rejected("malformed")
    meter_id, seq, time_ms, import_wh, export_wh, power_w, voltage_mv, signature = item
    if (type(meter_id) is not str or not METER_ID.fullmatch(meter_id)
            or not (_is_count(seq) and seq > 0) or not _is_count(time_ms)
            or not _is_count(import_wh) or not _is_count(export_wh)
            or not _is_count(power_w, True) or not _is_count(voltage_mv, True)
            or type(signature) is not bytes):
        raise Rejected("malformed")
    return meter_id, seq, Reading(time_ms, import_wh, export_wh, power_w, voltage_mv), signature


def check_signature(chain_id: str, meter_id: str, seq: int, reading: Reading,
                    signature: bytes, meter: Meter) -> None:
    payload = reading_payload(meter_id, seq, reading.time_ms, reading.import_wh,
                              reading.export_wh, reading.power_w, reading.voltage_mv)
    try:
        signer = recover_signer(signature, sign_bytes(READING_DOMAIN, chain_id, payload))
    except SignatureError:
        raise Rejected("bad_signature") from None
    if signer != meter.public_key:
        raise Rejected("bad_signature")


def check_step(earlier: Reading, later: Reading, meter: Meter, params: MeteringParams) -> None:
    """``later`` may follow ``earlier``: later in time, registers forward, plausible rate."""
    if later.time_ms <= earlier.time_ms:
        raise Rejected("time_not_monotonic")
    import_delta = later.import_wh - earlier.import_wh
    export_delta = later.export_wh - earlier.export_wh
    if import_delta < 0 or export_delta < 0:
        raise Rejected("register_backwards")
    duration = later.time_ms - earlier.time_ms
    for delta in (import_delta, export_delta):
        if not is_plausible(delta, duration, meter.max_power_w, params.rate_tolerance_pct):
            raise Rejected("implausible_rate")


class ReadingHandlers:
    def __init__(self, keeper: MeteringKeeper) -> None:
        self.keeper = keeper

    def close_intervals(self, ctx: Context) -> None:
        """end_block: close every interval that ended by this block's time (once there
        are meters: a chain without them writes nothing here)."""
        if next(self.keeper.iterate_meters(ctx.state), None) is None:
            return
        current = interval_start(ctx.time_ms, ctx.params.interval_ms)
        closed = self.keeper.closed_until(ctx.state)
        if current > closed:
            self.keeper.set_closed_until(ctx.state, current)
            if closed:
                ctx.emit("interval_closed", {"start_ms": closed, "end_ms": current})

    def submit_readings(self, ctx: Context, args: list[Any]) -> None:
        """[[reading, ...]] (anyone, usually a gateway): see the module docstring."""
        (batch,) = expect_args(args, 1, "list of readings")
        params = self.keeper.params(ctx.state)
        if type(batch) is not list or not batch:
            raise InvalidArgs("readings must be a non-empty list")
        if len(batch) > params.max_readings_per_tx:
            raise BatchTooLarge(f"{len(batch)} readings; at most "
                                f"{params.max_readings_per_tx} per tx")
        accepted = 0
        for index, item in enumerate(batch):
            try:
                self.apply_reading(ctx, params, item)
                accepted += 1
            except Rejected as rejection:
                meter_id, seq = (item[0], item[1]) if type(item) is list and len(item) > 1 \
                    else ("", "")
                ctx.emit("reading_rejected", {"index": index, "meter_id": meter_id, "seq": seq,
                                              "reason": rejection.reason})
        ctx.emit("readings", {"accepted": accepted, "rejected": len(batch) - accepted})

    def apply_reading(self, ctx: Context, params: MeteringParams, item: Any) -> None:
        meter_id, seq, reading, signature = parse_reading(item)
        meter = self.keeper.get_meter(ctx.state, meter_id)
        if meter is None:
            raise Rejected("unknown_meter")
        if meter.status != ACTIVE:
            raise Rejected("meter_not_active")
        check_signature(ctx.chain_id, meter_id, seq, reading, signature, meter)
        if seq > meter.last_seq:
            self.append(ctx, params, meter_id, meter, seq, reading)
        else:
            self.backfill(ctx, params, meter_id, meter, seq, reading)
        meter.reading_count += 1
        self.keeper.save_meter(ctx.state, meter_id, meter)

    def append(self, ctx: Context, params: MeteringParams, meter_id: str, meter: Meter,
               seq: int, reading: Reading) -> None:
        if reading.time_ms > ctx.time_ms + params.future_tolerance_ms:
            raise Rejected("future_timestamp")
        if meter.last_seq == 0:
            meter.first_import_wh, meter.first_export_wh = reading.import_wh, reading.export_wh
        else:
            last = Reading(meter.last_time_ms, meter.import_wh, meter.export_wh, None, None)
            check_step(last, reading, meter, params)
            self.keeper.add_span(ctx.state, meter_id, meter, last, reading,
                                 ctx.params.interval_ms, params)
            self.keeper.set_gap(ctx.state, meter_id, meter.last_seq, seq)
        self.keeper.set_reading(ctx.state, meter_id, seq, reading)
        meter.last_seq, meter.last_time_ms = seq, reading.time_ms
        meter.import_wh, meter.export_wh = reading.import_wh, reading.export_wh

    def backfill(self, ctx: Context, params: MeteringParams, meter_id: str, meter: Meter,
                 seq: int, reading: Reading) -> None:
        gap = self.keeper.gap_around(ctx.state, meter_id, seq)
        if gap is None:
            raise Rejected("replayed_sequence")
        before_seq, after_seq = gap
        before = self.keeper.get_reading(ctx.state, meter_id, before_seq)
        after = self.keeper.get_reading(ctx.state, meter_id, after_seq)
        if before is None or after is None:  # the gap index names stored readings
            raise Rejected("replayed_sequence")
        check_step(before, reading, meter, params)
        check_step(reading, after, meter, params)
        interval_ms = ctx.params.interval_ms
        self.keeper.add_span(ctx.state, meter_id, meter, before, after, interval_ms, params, -1)
        self.keeper.add_span(ctx.state, meter_id, meter, before, reading, interval_ms, params)
        self.keeper.add_span(ctx.state, meter_id, meter, reading, after, interval_ms, params)
        self.keeper.delete_gap(ctx.state, meter_id, before_seq)
        self.keeper.set_gap(ctx.state, meter_id, before_seq, seq)
        self.keeper.set_gap(ctx.state, meter_id, seq, after_seq)
        self.keeper.set_reading(ctx.state, meter_id, seq, reading)
        ctx.emit("gap_filled", {"meter_id": meter_id, "seq": seq, "between": before_seq,
                                "and": after_seq})


def sign_reading(meter_key: PrivateKey, chain_id: str, meter_id: str, seq: int, time_ms: int,
                 import_wh: int, export_wh: int, power_w: int | None = None,
                 voltage_mv: int | None = None) -> list[Any]:
    """A reading as ``submit_readings`` takes it, signed by the meter's key."""
    payload = reading_payload(meter_id, seq, time_ms, import_wh, export_wh, power_w, voltage_mv)
    signature = meter_key.sign(READING_DOMAIN, chain_id, payload)
    return [meter_id, seq, time_ms, import_wh, export_wh, power_w, voltage_mv, signature]
