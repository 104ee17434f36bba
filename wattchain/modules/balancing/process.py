"""End-block processing: emergencies every block, dispatch at the start of
each interval, one record per (zone, interval) once it ended.

Every end_block first steps each zone's emergency state machine
(``emergency``: expiry, then the grid frequency feed) and applies a changed
state to the zone's market (trading's restriction). Then ended intervals are
recorded (below), and then the running interval is dispatched if it was not
yet (``dispatch``), so dispatch uses the freshest forecast.

Interval [s, s + interval_ms) is recorded at the first end_block whose block
time is at least s + interval_ms + ``record_delay_ms``, zones in ascending
id order. The first
end_block that sees a registered zone starts with the interval then running
(earlier intervals are never recorded); blocks that process nothing write
nothing. At most ``max_catch_up`` intervals are
processed per block; a longer gap (a halted chain) skips ahead to the newest
ones. Metered energy is read at processing time: readings that arrive later
are not reflected in the record.

Per zone and interval, in this order:

1. record metered import/export (metering), the cleared schedule (trading)
   and the forecast made for it, scoring the forecast (``forecast``);
2. settle the interval's dispatch: pay the measured flexibility and let
   storage follow its meters (``dispatch``);
3. choose the imbalance price (``pricing``: the marginal dispatched price
   within the DSO's bounds when flexibility was paid for, else the oracle
   rules) and, unless the rule is ``none``, write it to trading as the
   zone's price for that interval (what settlement charges) and its current
   price;
4. update the zone's model and forecast the next ``horizon`` intervals;
   compute the zone's resilience figures (``resilience``);
5. prune the record, dispatch and interval price ``retain_ms`` older.
"""

from __future__ import annotations

from wattchain.modules.balancing import emergency as rules
from wattchain.modules.balancing import forecast, pricing, resilience
from wattchain.modules.balancing.dispatch import Dispatcher
from wattchain.modules.balancing.expected import (
    Bank,
    GridRegistry,
    MarketSchedule,
    MeteredEnergy,
    OracleFeeds,
)
from wattchain.modules.balancing.keeper import BalancingKeeper
from wattchain.modules.balancing.types import (
    FIRM_TYPES,
    RULE_FLEX,
    RULE_NONE,
    BalancingParams,
    Forecast,
    IntervalRecord,
    LogEntry,
    ZoneModel,
)
from wattchain.vm.interface import Context


class Balancer:
    def __init__(self, keeper: BalancingKeeper, energy: MeteredEnergy, registry: GridRegistry,
                 feeds: OracleFeeds, market: MarketSchedule, bank: Bank) -> None:
        self.keeper = keeper
        self.energy = energy
        self.registry = registry
        self.feeds = feeds
        self.market = market
        self.dispatcher = Dispatcher(keeper, energy, registry, market, bank)

    def process_due(self, ctx: Context) -> None:
        zones = sorted(self.registry.zone_ids(ctx.state))
        if not zones:
            return  # nothing to balance: a chain without zones writes nothing here
        params = self.keeper.params(ctx.state)
        for zone in zones:
            self.step_emergency(ctx, params, zone)
        interval_ms = ctx.params.interval_ms
        current = ctx.time_ms // interval_ms * interval_ms
        self.record_due(ctx, params, zones, current)
        self.dispatch_due(ctx, params, zones, current)

    def record_due(self, ctx: Context, params: BalancingParams, zones: list[str],
                   current: int) -> None:
        interval_ms = ctx.params.interval_ms
        stored = self.keeper.get_next(ctx.state)
        if stored is None:
            self.keeper.set_next(ctx.state, current)
            return
        next_start = max(stored, current - params.max_catch_up * interval_ms)
        while next_start + interval_ms + params.record_delay_ms <= ctx.time_ms:
            for zone in zones:
                self.process_interval(ctx, params, zone, next_start)
            next_start += interval_ms
        if next_start != stored:  # an idle block writes nothing
            self.keeper.set_next(ctx.state, next_start)

    def dispatch_due(self, ctx: Context, params: BalancingParams, zones: list[str],
                     current: int) -> None:
        """Dispatch the running interval once, at the first block inside it (an
        interval a halted chain slept through is over: it is not dispatched)."""
        stored = self.keeper.get_next_dispatch(ctx.state)
        if stored is not None and stored > current:
            return
        self.dispatcher.dispatch_interval(ctx, params, zones, current)
        self.keeper.set_next_dispatch(ctx.state, current + ctx.params.interval_ms)

    # -- emergencies ------------------------------------------------------------------

    def step_emergency(self, ctx: Context, params: BalancingParams, zone: str) -> None:
        current = self.keeper.get_emergency(ctx.state, zone)
        step = rules.expire(current, ctx.time_ms)
        if step is None:
            frequency = self.feeds.latest(ctx.state, "grid_frequency", zone, ctx.time_ms,
                                          params.frequency_max_age_ms)
            step = rules.follow_frequency(current, frequency, ctx.time_ms, params)
        if step is not None:
            self.apply_emergency(ctx, params, zone, step, b"")

    def apply_emergency(self, ctx: Context, params: BalancingParams, zone: str,
                        step: rules.Transition, by: bytes) -> None:
        """Store the new state, log the step (``by``: the DSO, or empty when
        automatic), emit it and set the zone's market restriction."""
        state = ctx.state
        previous = self.keeper.get_emergency(state, zone)
        self.keeper.set_emergency(state, zone, step.emergency)
        shown = step.emergency or previous
        entry = LogEntry(step.action, "" if shown is None else shown.kind,
                         0 if step.emergency is None else step.emergency.severity, ctx.height,
                         ctx.time_ms, by,
                         0 if step.emergency is None else step.emergency.expiry_ms, step.reason)
        seq = self.keeper.append_log(state, zone, entry)
        mode, cap = rules.market_effect(step.emergency, self.keeper.get_bounds(state, zone),
                                        params)
        self.market.set_restriction(state, zone, mode, cap)
        ctx.emit("emergency", {"zone": zone, "action": step.action, "kind": entry.kind,
                               "severity": entry.severity, "expiry_ms": entry.expiry_ms,
                               "reason": step.reason, "by": by, "market": mode,
                               "price_cap": cap, "seq": seq})

    def process_interval(self, ctx: Context, params: BalancingParams, zone: str,
                         start: int) -> None:
        state = ctx.state
        metered = self.energy.zone_energy(state, zone, start)
        record = IntervalRecord(metered.import_wh, metered.export_wh,
                                self.market.scheduled_wh(state, zone, start))
        model = self.keeper.get_model(state, zone)
        made = next((item for item in model.forecasts if item.interval_start == start), None)
        if made is not None:
            record.forecast_demand_wh, record.forecast_solar_wh = made.demand_wh, made.solar_wh
            ape = forecast.compute_ape(record.import_wh, made.demand_wh)
            record.ape_per_mille = -1 if ape is None else ape
            forecast.score(model, ape)
            record.forecast_wind_wh = made.wind_wh
        dispatch = self.dispatcher.settle_interval(ctx, zone, start)
        wholesale = self.feeds.latest(state, "wholesale_price", zone, ctx.time_ms,
                                      params.oracle_max_age_ms)
        bounds = self.keeper.get_bounds(state, zone)
        record.price, record.price_rule = pricing.compute_price(
            bounds, wholesale, params.price_factor_per_mille, record.imbalance_wh)
        if bounds is not None and dispatch is not None and dispatch.marginal_price >= 0:
            record.price = pricing.clamp(dispatch.marginal_price, *bounds)
            record.price_rule = RULE_FLEX
        if record.price_rule != RULE_NONE:
            self.market.set_imbalance_price(state, zone, record.price)
            self.market.set_interval_imbalance_price(state, zone, start, record.price)
        self.keeper.set_record(state, zone, start, record)
        forecast.observe(model, record.import_wh, self.seasonal(ctx, params, zone, start),
                         params.alpha_per_mille)
        model.forecasts = self.compute_forecasts(ctx, params, zone, start, model)
        self.keeper.set_model(state, zone, model)
        self.keeper.set_resilience(state, zone, resilience.compute(
            ctx, self.registry, self.keeper, zone, model.forecasts))
        expired = start - params.retain_ms
        self.keeper.delete_record(state, zone, expired)
        self.keeper.delete_dispatch(state, zone, expired)
        self.market.delete_interval_imbalance_price(state, zone, expired)
        up = down = 0
        if dispatch is not None:
            up, down = dispatch.up_wh, dispatch.down_wh
        ctx.emit("interval_balanced", {
            "zone": zone, "interval": start, "import_wh": record.import_wh,
            "export_wh": record.export_wh, "scheduled_wh": record.scheduled_wh,
            "imbalance_wh": record.imbalance_wh, "price": record.price,
            "price_rule": record.price_rule, "flex_up_wh": up, "flex_down_wh": down})

    def seasonal(self, ctx: Context, params: BalancingParams, zone: str,
                 start: int) -> int | None:
        """Metered import of the same interval one season before ``start``, if on record."""
        earlier = self.keeper.get_record(ctx.state, zone, start - params.season_ms)
        return None if earlier is None else earlier.import_wh

    def compute_forecasts(self, ctx: Context, params: BalancingParams, zone: str, start: int,
                          model: ZoneModel) -> list[Forecast]:
        interval_ms = ctx.params.interval_ms
        state, now = ctx.state, ctx.time_ms
        capacity = self.registry.zone_capacity(state, zone, "solar", now)
        irradiance = self.feeds.latest(state, "irradiance", zone, now, params.oracle_max_age_ms)
        solar = forecast.compute_solar(capacity, irradiance, interval_ms)
        wind_speed = self.feeds.latest(state, "wind_speed", zone, now, params.oracle_max_age_ms)
        wind = forecast.compute_wind(self.registry.zone_capacity(state, zone, "wind", now),
                                     wind_speed, interval_ms)
        firm_w = sum(self.registry.zone_capacity(state, zone, kind, now) for kind in FIRM_TYPES)
        firm = forecast.compute_firm(firm_w, params.firm_per_mille, interval_ms)
        ahead = []
        for step in range(1, params.horizon + 1):
            target = start + step * interval_ms
            demand = forecast.compute_demand(model, self.seasonal(ctx, params, zone, target))
            ahead.append(Forecast(target, demand, solar, wind, firm))
        return ahead
