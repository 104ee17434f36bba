"""Automated balancing: dispatch at the start of each interval, payment and
state of charge once it was metered.

**Dispatch** of interval ``s``, at the first end_block at or after ``s``,
zones in ascending id order, from the newest forecast made for ``s``
(``forecast imbalance = demand - (solar + wind + firm)``; 0 without one):

1. *Short* (imbalance above ``deadband_wh``): up flexibility in merit order
   (``flex``): storage discharges, flexible loads curtail. In a shortage or
   islanding emergency storage reserves are released, and what is still
   short is then shared in from neighbouring zones over their links (up to
   the link's capacity x hours and the neighbour's forecast surplus, links
   in (source, target) order), and the rest is shed from flexible loads by
   priority class (highest first, then asset id; critical loads only at
   severity 3).
2. *Long* (imbalance below ``-deadband_wh``): down flexibility: storage
   charges. In an overload or islanding emergency, what is still long is
   shared out to short neighbours, then generation is curtailed in the
   published order of asset types (``CURTAILMENT_ORDER``), largest first.

Each instruction is a ``flex_dispatch`` event for the device (action,
asset, energy, power) and an item of the zone's dispatch record.

**Settlement** of interval ``s``, when balancing records it (``process``):
each paid instruction is measured on the asset's own meter — a discharge by
its export, a charge by its import, a curtailment by how far its import fell
below the interval before — and the zone's DSO pays ``min(instructed,
measured) x price // 1000`` to the owner, as far as its balance allows.
Shedding, curtailing generation and sharing are emergency duties, unpaid.
Then every storage asset of the zone follows its meter (``flex.follow_meter``).
"""

from __future__ import annotations

from wattchain.modules.balancing import emergency as rules
from wattchain.modules.balancing.expected import Bank, GridRegistry, MarketSchedule, MeteredEnergy
from wattchain.modules.balancing.flex import (
    Offer,
    down_capacity,
    energy_of,
    follow_meter,
    merit_order,
    up_capacity,
)
from wattchain.modules.balancing.keeper import BalancingKeeper
from wattchain.modules.balancing.types import (
    CHARGE,
    CRITICAL,
    CURTAIL,
    CURTAIL_GENERATION,
    CURTAILMENT_ORDER,
    DISCHARGE,
    MAX_SEVERITY,
    MS_PER_HOUR,
    PAID_ACTIONS,
    PER_MILLE,
    SHARE_IN,
    SHARE_OUT,
    SHED,
    STORAGE,
    BalancingParams,
    DispatchItem,
    DispatchRecord,
    Emergency,
    FlexAsset,
)
from wattchain.vm.interface import Context


class Dispatcher:
    def __init__(self, keeper: BalancingKeeper, energy: MeteredEnergy, registry: GridRegistry,
                 market: MarketSchedule, bank: Bank) -> None:
        self.keeper = keeper
        self.energy = energy
        self.registry = registry
        self.market = market
        self.bank = bank

    # -- dispatch at the start of an interval ---------------------------------------------

    def dispatch_interval(self, ctx: Context, params: BalancingParams, zones: list[str],
                          start: int) -> None:
        state = ctx.state
        forecasts = {zone: self.forecast_imbalance(ctx, zone, start) for zone in zones}
        records: dict[str, DispatchRecord] = {}
        # what each neighbour still has to give (+) or take (-) after its own needs
        spare = {zone: -imbalance for zone, imbalance in forecasts.items()}
        link_left = {pair: energy_of(capacity_w, ctx.params.interval_ms)
                     for pair, (capacity_w, _) in self.market.links(state)}
        for zone in zones:
            emergency = self.keeper.get_emergency(state, zone)
            record = DispatchRecord(forecasts[zone], "" if emergency is None else emergency.kind)
            flex = [(asset_id, item) for asset_id, item in self.keeper.zone_flex(state, zone)
                    if self.registry.active_capacity(state, asset_id, start) > 0]
            imbalance = forecasts[zone]
            if imbalance > params.deadband_wh:
                left = self.dispatch_up(ctx, record, flex, emergency, imbalance)
                if left and rules.sheds_load(emergency):
                    left = self.share(record, zone, left, spare, link_left, incoming=True)
                    self.shed(ctx, record, flex, emergency, left)
            elif imbalance < -params.deadband_wh:
                left = self.dispatch_down(ctx, record, flex, -imbalance)
                if left and rules.curtails_generation(emergency):
                    left = self.share(record, zone, left, spare, link_left, incoming=False)
                    self.curtail_generation(ctx, record, zone, start, left)
            records[zone] = record
        for zone in zones:
            record = records[zone]
            self.keeper.set_dispatch(state, zone, start, record)
            for item in record.items:
                self.emit_item(ctx, zone, start, item)
            ctx.emit("dispatch", {"zone": zone, "interval": start,
                                  "forecast_imbalance_wh": record.forecast_imbalance_wh,
                                  "up_wh": record.up_wh, "down_wh": record.down_wh,
                                  "marginal_price": record.marginal_price,
                                  "emergency": record.emergency})

    def forecast_imbalance(self, ctx: Context, zone: str, start: int) -> int:
        model = self.keeper.get_model(ctx.state, zone)
        made = next((item for item in model.forecasts if item.interval_start == start), None)
        return 0 if made is None else made.imbalance_wh

    def dispatch_up(self, ctx: Context, record: DispatchRecord,
                    flex: list[tuple[int, FlexAsset]], emergency: Emergency | None,
                    need: int) -> int:
        release = rules.releases_reserve(emergency)
        interval_ms = ctx.params.interval_ms
        offers = [Offer(asset_id, item.price_up, up_capacity(item, interval_ms, release))
                  for asset_id, item in flex]
        return self.take(record, flex, offers, need, up=True)

    def dispatch_down(self, ctx: Context, record: DispatchRecord,
                      flex: list[tuple[int, FlexAsset]], need: int) -> int:
        offers = [Offer(asset_id, item.price_down, down_capacity(item, ctx.params.interval_ms))
                  for asset_id, item in flex if item.asset_type == STORAGE]
        return self.take(record, flex, offers, need, up=False)

    def take(self, record: DispatchRecord, flex: list[tuple[int, FlexAsset]],
             offers: list[Offer], need: int, up: bool) -> int:
        kinds = dict((asset_id, item.asset_type) for asset_id, item in flex)
        taken, marginal = merit_order(offers, need)
        for offer, energy in taken:
            action = (DISCHARGE if kinds[offer.asset_id] == STORAGE else CURTAIL) if up \
                else CHARGE
            record.items.append(DispatchItem(action, offer.asset_id, energy, offer.price))
        if taken:
            record.marginal_price = marginal
        return need - sum(energy for _, energy in taken)

    def share(self, record: DispatchRecord, zone: str, left: int, spare: dict[str, int],
              link_left: dict[tuple[str, str], int], incoming: bool) -> int:
        """Share with neighbours: in from long ones (``incoming``), or out to short ones."""
        for pair in sorted(link_left):
            source, target = pair
            peer = source if incoming else target
            if (target if incoming else source) != zone or peer not in spare or left == 0:
                continue
            available = spare[peer] if incoming else -spare[peer]
            energy = min(left, link_left[pair], max(0, available))
            if energy <= 0:
                continue
            link_left[pair] -= energy
            spare[peer] += -energy if incoming else energy
            left -= energy
            record.items.append(DispatchItem(SHARE_IN if incoming else SHARE_OUT, 0, energy,
                                             0, peer))
        return left

    def shed(self, ctx: Context, record: DispatchRecord, flex: list[tuple[int, FlexAsset]],
             emergency: Emergency | None, left: int) -> None:
        severity = 0 if emergency is None else emergency.severity
        curtailed = {i.target: i.energy_wh for i in record.items if i.action == CURTAIL}
        loads = sorted(((item.priority, asset_id) for asset_id, item in flex
                        if item.asset_type != STORAGE
                        and (item.priority != CRITICAL or severity >= MAX_SEVERITY)),
                       key=lambda pair: (-pair[0], pair[1]))
        for _, asset_id in loads:
            if left <= 0:
                break
            asset = self.registry.get_asset(ctx.state, asset_id)
            if asset is None:
                continue
            energy = min(left, energy_of(asset.capacity_w, ctx.params.interval_ms)
                         - curtailed.get(asset_id, 0))
            if energy > 0:
                record.items.append(DispatchItem(SHED, asset_id, energy, 0))
                left -= energy

    def curtail_generation(self, ctx: Context, record: DispatchRecord, zone: str, start: int,
                           left: int) -> None:
        state = ctx.state
        generators = []
        for asset_id in self.registry.zone_asset_ids(state, zone):
            asset = self.registry.get_asset(state, asset_id)
            capacity = self.registry.active_capacity(state, asset_id, start)
            if asset is not None and asset.asset_type in CURTAILMENT_ORDER and capacity > 0:
                generators.append((CURTAILMENT_ORDER.index(asset.asset_type), -capacity,
                                   asset_id))
        for _, negative_capacity, asset_id in sorted(generators):
            if left <= 0:
                break
            energy = min(left, energy_of(-negative_capacity, ctx.params.interval_ms))
            record.items.append(DispatchItem(CURTAIL_GENERATION, asset_id, energy, 0))
            left -= energy

    def emit_item(self, ctx: Context, zone: str, start: int, item: DispatchItem) -> None:
        owner: bytes = b""
        if item.target:
            asset = self.registry.get_asset(ctx.state, item.target)
            owner = b"" if asset is None else asset.owner
        ctx.emit("flex_dispatch", {
            "zone": zone, "interval": start, "action": item.action, "asset_id": item.target,
            "owner": owner, "peer": item.peer, "energy_wh": item.energy_wh,
            "power_w": item.energy_wh * MS_PER_HOUR // ctx.params.interval_ms,
            "price": item.price})

    # -- after metering: pay, and follow the storage meters ---------------------------

    def settle_interval(self, ctx: Context, zone: str, start: int) -> DispatchRecord | None:
        state = ctx.state
        record = self.keeper.get_dispatch(state, zone, start)
        if record is not None and not record.settled:
            dso = self.registry.zone_operator(state, zone)
            for item in record.items:
                if item.action in PAID_ACTIONS:
                    self.pay(ctx, zone, start, item, dso)
            record.settled = True
            self.keeper.set_dispatch(state, zone, start, record)
        for asset_id, flex in self.keeper.zone_flex(state, zone):
            if flex.asset_type != STORAGE or not flex.meter_id:
                continue
            metered = self.energy.meter_energy(state, flex.meter_id, start)
            soc = follow_meter(flex, metered.import_wh, metered.export_wh)
            if soc != flex.soc_wh:
                flex.soc_wh = soc
                self.keeper.set_flex(state, asset_id, flex)
        return record

    def pay(self, ctx: Context, zone: str, start: int, item: DispatchItem,
            dso: bytes | None) -> None:
        state = ctx.state
        flex = self.keeper.get_flex(state, item.target)
        delivered = 0
        if flex is not None and flex.meter_id:
            metered = self.energy.meter_energy(state, flex.meter_id, start)
            if item.action == DISCHARGE:
                measured = metered.export_wh
            elif item.action == CHARGE:
                measured = metered.import_wh
            else:  # curtail: the fall of its import below the interval before
                before = self.energy.meter_energy(state, flex.meter_id,
                                                  start - ctx.params.interval_ms)
                measured = max(0, before.import_wh - metered.import_wh)
            delivered = min(item.energy_wh, measured)
        owed = delivered * item.price // PER_MILLE
        paid = 0
        if flex is not None and dso is not None and owed > 0:
            paid = min(owed, self.bank.get_balance(state, dso))
            if paid:
                self.bank.transfer(state, dso, flex.owner, paid)
        item.delivered_wh, item.paid = delivered, paid
        ctx.emit("flex_settled", {"zone": zone, "interval": start, "action": item.action,
                                  "asset_id": item.target, "delivered_wh": delivered,
                                  "owed": owed, "paid": paid})
