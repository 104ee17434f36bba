"""Handlers for the meter lifecycle (register, commission, decommission, rotate
key) and for tariffs and bills (``bills``). Readings are in ``ingest``.

::

    register_meter -> registered --commission--> active
    registered | active --decommission--> decommissioned (final)
    rotate_key: registered or active; the old key signs nothing after it

Only accounts with the ``meter_operator`` role register meters; the operator
that registered a meter (or an admin) manages it afterwards. Any TxError
leaves state untouched.
"""

from __future__ import annotations

from typing import Any

from wattchain import codec
from wattchain.crypto import PUBLIC_KEY_LEN
from wattchain.modules.metering import keys
from wattchain.modules.metering.bills import BillingService, trade_ids_of
from wattchain.modules.metering.errors import (
    AssetMismatch,
    BillExists,
    InvalidPeriod,
    InvalidPublicKey,
    InvalidTransition,
    KeyInUse,
    MeterExists,
    MissingRole,
    NotMeterOperator,
    NotZoneOperator,
    TariffNotInFuture,
    UnknownMeter,
    UnknownMeterType,
    UnknownZone,
)
from wattchain.modules.metering.expected import AssetRegistry, RoleChecker
from wattchain.modules.metering.keeper import MeteringKeeper
from wattchain.modules.metering.tariffs import DAY_MS, check_tariff
from wattchain.modules.metering.types import (
    ACTIVE,
    ASSET_TYPES_NEEDED,
    DECOMMISSIONED,
    METER_TYPES,
    REGISTERED,
    Meter,
)
from wattchain.vm.errors import InvalidArgs
from wattchain.vm.fields import (
    MAX_INT,
    arg_address,
    arg_int,
    arg_meter_id,
    arg_text,
    arg_zone_id,
    expect_args,
)
from wattchain.vm.interface import Context, operates_zone, require_role
from wattchain.vm.params import load_params
from wattchain.vm.state import StateReader

MAX_POWER_W = 1 << 40
MAX_BILL_MS = 366 * DAY_MS
BILLERS = ("dso", "meter_operator")  # with a tie to the account (``check_biller``)


def check_public_key(value: Any) -> bytes:
    if type(value) is not bytes or len(value) != PUBLIC_KEY_LEN or value[0] not in (2, 3):
        raise InvalidPublicKey("a meter key is a 33-byte compressed secp256k1 public key")
    return value


def check_meter_name(value: Any) -> str:
    meter_id = arg_meter_id(value)
    if not meter_id:
        raise InvalidArgs("meter id must not be empty")
    return meter_id


class MeterHandlers:
    def __init__(self, keeper: MeteringKeeper, roles: RoleChecker,
                 registry: AssetRegistry) -> None:
        self.keeper = keeper
        self.roles = roles
        self.registry = registry

    def load_managed(self, ctx: Context, meter_raw: Any) -> tuple[str, Meter]:
        """The meter, if the sender is its operator (with the role) or an admin."""
        meter_id = check_meter_name(meter_raw)
        meter = self.keeper.get_meter(ctx.state, meter_id)
        if meter is None:
            raise UnknownMeter(f"no meter {meter_id!r}")
        holder = self.roles.get_account(ctx.state, ctx.sender)
        if not holder.has_role("admin") and not (
                meter.operator == ctx.sender and holder.has_role("meter_operator")):
            raise NotMeterOperator(f"meter {meter_id!r} is managed by 0x{meter.operator.hex()}")
        return meter_id, meter

    def check_key_free(self, ctx: Context, public_key: bytes) -> None:
        holder = self.keeper.meter_for_key(ctx.state, public_key)
        if holder is not None:
            raise KeyInUse(f"this key already signs for meter {holder!r}")

    def check_asset(self, ctx: Context, meter_type: str, asset_id: int, account: bytes,
                    zone_id: str) -> None:
        if asset_id == 0:
            if meter_type in ASSET_TYPES_NEEDED:
                raise AssetMismatch(f"a {meter_type} meter must name the asset it measures")
            return
        if asset_id not in self.registry.assets_of(ctx.state, account):
            raise AssetMismatch(f"asset {asset_id} does not exist or is not owned by the "
                                "meter's account")
        asset_zone = self.registry.zone_of(ctx.state, asset_id)
        if asset_zone != zone_id:
            raise AssetMismatch(f"asset {asset_id} is in zone {asset_zone!r}, not {zone_id!r}")

    def register_meter(self, ctx: Context, args: list[Any]) -> None:
        """[meter_id, type, public_key, account, zone_id, asset_id, max_power_w, submeter]
        (meter_operator): a new meter, not yet commissioned."""
        (meter_raw, type_raw, key_raw, account_raw, zone_raw, asset_raw, power_raw,
         submeter_raw) = expect_args(args, 8, "meter id, type, public key, account, zone, "
                                     "asset id (0: none), max power W, submeter")
        require_role(self.roles, ctx, "meter_operator", MissingRole)
        meter_id = check_meter_name(meter_raw)
        if type_raw not in METER_TYPES:
            raise UnknownMeterType(f"unknown meter type {type_raw!r}; types are "
                                   f"{', '.join(METER_TYPES)}")
        public_key = check_public_key(key_raw)
        account = arg_address(account_raw, "account")
        zone_id = arg_zone_id(zone_raw)
        asset_id = arg_int(asset_raw, "asset id", 0, 1 << 62)
        max_power_w = arg_int(power_raw, "max power (W)", 1, MAX_POWER_W)
        if type(submeter_raw) is not bool:
            raise InvalidArgs("submeter must be true or false")
        if self.keeper.get_meter(ctx.state, meter_id) is not None:
            raise MeterExists(f"meter {meter_id!r} is already registered")
        self.check_key_free(ctx, public_key)
        self.check_asset(ctx, str(type_raw), asset_id, account, zone_id)
        meter = Meter(str(type_raw), public_key, ctx.sender, account, zone_id, asset_id,
                      max_power_w, submeter_raw, REGISTERED, ctx.height)
        self.keeper.save_meter(ctx.state, meter_id, meter)
        ctx.emit("meter_registered", {"meter_id": meter_id, "type": meter.meter_type,
                                      "account": account, "zone_id": zone_id,
                                      "asset_id": asset_id, "operator": ctx.sender})

    def commission(self, ctx: Context, args: list[Any]) -> None:
        """[meter_id] (its operator): start accepting the meter's readings."""
        (meter_raw,) = expect_args(args, 1, "meter id")
        meter_id, meter = self.load_managed(ctx, meter_raw)
        if meter.status != REGISTERED:
            raise InvalidTransition(f"meter {meter_id!r} is {meter.status}; only a registered "
                                    "meter can be commissioned")
        meter.status = ACTIVE
        self.keeper.save_meter(ctx.state, meter_id, meter)
        ctx.emit("meter_status", {"meter_id": meter_id, "status": ACTIVE, "reason": ""})

    def decommission(self, ctx: Context, args: list[Any]) -> None:
        """[meter_id, reason] (its operator): no more readings, for good."""
        meter_raw, reason_raw = expect_args(args, 2, "meter id, reason")
        meter_id, meter = self.load_managed(ctx, meter_raw)
        reason = arg_text(reason_raw, "reason", 256)
        if meter.status == DECOMMISSIONED:
            raise InvalidTransition(f"meter {meter_id!r} is already decommissioned")
        meter.status = DECOMMISSIONED
        self.keeper.save_meter(ctx.state, meter_id, meter)
        ctx.emit("meter_status", {"meter_id": meter_id, "status": DECOMMISSIONED,
                                  "reason": reason})

    def rotate_key(self, ctx: Context, args: list[Any]) -> None:
        """[meter_id, new_public_key] (its operator): readings must carry the new key's
        signature from now on; sequence and registers continue."""
        meter_raw, key_raw = expect_args(args, 2, "meter id, new public key")
        meter_id, meter = self.load_managed(ctx, meter_raw)
        public_key = check_public_key(key_raw)
        if meter.status == DECOMMISSIONED:
            raise InvalidTransition(f"meter {meter_id!r} is decommissioned")
        self.check_key_free(ctx, public_key)
        old_key, meter.public_key = meter.public_key, public_key
        self.keeper.save_meter(ctx.state, meter_id, meter, old_key)
        ctx.emit("meter_key_rotated", {"meter_id": meter_id, "public_key": public_key})


class BillingHandlers:
    """``set_tariff`` and ``issue_bill`` (see ``bills``)."""

    def __init__(self, keeper: MeteringKeeper, roles: RoleChecker, registry: AssetRegistry,
                 billing: BillingService) -> None:
        self.keeper = keeper
        self.roles = roles
        self.registry = registry
        self.billing = billing

    def set_tariff(self, ctx: Context, args: list[Any]) -> None:
        (zone_raw, from_raw, offset, weekend, holidays, bands, schedule,
         standing) = expect_args(args, 8, "zone, effective from ms, UTC offset minutes, "
                                 "weekend days, holidays, bands, schedule, standing charge")
        require_role(self.roles, ctx, "dso", MissingRole, "setting a tariff needs the 'dso' role")
        zone_id = arg_zone_id(zone_raw)
        operator = self.registry.zone_operator(ctx.state, zone_id)
        if operator is None:
            raise UnknownZone(f"no zone {zone_id!r} is registered")
        if not operates_zone(self.roles, ctx.state, ctx.sender, operator):
            raise NotZoneOperator(f"only the operator of zone {zone_id!r} "
                                  f"(0x{operator.hex()}) sets its tariffs")
        effective_from = arg_int(from_raw, "effective from (ms)", 0, MAX_INT)
        if effective_from <= ctx.time_ms:
            raise TariffNotInFuture(f"a tariff takes effect in the future; block time is "
                                    f"{ctx.time_ms}")
        tariff = check_tariff(ctx.sender, offset, weekend, holidays, bands, schedule, standing)
        ctx.state.set(keys.tariff_key(zone_id, effective_from), codec.encode(tariff.to_list()))
        ctx.emit("tariff_set", {"zone_id": zone_id, "effective_from_ms": effective_from,
                                "setter": ctx.sender, "bands": len(tariff.bands)})

    def issue_bill(self, ctx: Context, args: list[Any]) -> None:
        account_raw, start_raw, end_raw = expect_args(args, 3, "account, start ms, end ms")
        account = arg_address(account_raw, "account")
        self.check_biller(ctx, account)
        start, end = self.check_period(ctx.state, start_raw, end_raw)
        key = keys.bill_key(account, start, end)
        if ctx.state.get(key) is not None:
            raise BillExists("this period is already billed")
        trades = self.billing.settled_trades(ctx.state, account, start, end)
        zone_id, bill = self.billing.compute(ctx.state, account, start, end, trades)
        pending = self.billing.pending_trades(ctx.state, account, start, end)
        ctx.state.set(key, codec.encode([zone_id, ctx.height, bill, trade_ids_of(trades),
                                         pending]))
        ctx.emit("bill_issued", {"account": account, "start_ms": start, "end_ms": end,
                                 "total": bill[1]})

    def check_biller(self, ctx: Context, account: bytes) -> None:
        """The sender may bill ``account``: it is the account, an admin, the DSO operating
        the zone of the account's grid meter, or the meter operator of that meter."""
        holder = self.roles.get_account(ctx.state, ctx.sender)
        if ctx.sender == account or holder.has_role("admin"):
            return
        if not any(holder.has_role(r) for r in BILLERS):
            raise MissingRole("a bill is issued by its account, its zone's dso, its meter's "
                              "operator or an admin")
        meter = self.billing.billing_meter(ctx.state, account)
        operator = self.registry.zone_operator(ctx.state, meter.zone_id)
        if operates_zone(self.roles, ctx.state, ctx.sender, operator):
            return
        if holder.has_role("meter_operator") and meter.operator == ctx.sender:
            return
        error = NotZoneOperator if holder.has_role("dso") else NotMeterOperator
        raise error(f"the account's grid meter is in zone {meter.zone_id!r}: only its DSO, "
                    "the meter's operator, the account or an admin bill it")

    def check_period(self, state: StateReader, start_raw: Any, end_raw: Any) -> tuple[int, int]:
        interval_ms = load_params(state).interval_ms
        start = arg_int(start_raw, "start (ms)", 0, MAX_INT)
        end = arg_int(end_raw, "end (ms)", 0, MAX_INT)
        if start % interval_ms or end % interval_ms or not start < end <= start + MAX_BILL_MS:
            raise InvalidPeriod(f"a period is 1 interval to 366 days, aligned to "
                                f"{interval_ms} ms intervals")
        if end > self.keeper.closed_until(state):
            raise InvalidPeriod("the period has not ended yet")
        return start, end
