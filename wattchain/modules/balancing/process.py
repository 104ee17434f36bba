"""End-block processing: one record per (zone, interval) once the interval ended.

Interval [s, s + interval_ms) is processed at the first end_block whose block
time is at least s + interval_ms, zones in ascending id order. The first
end_block that sees a registered zone starts with the interval then running
(earlier intervals are never recorded); blocks that process nothing write
nothing. At most ``max_catch_up`` intervals are
processed per block; a longer gap (a halted chain) skips ahead to the newest
ones. Metered energy is read at processing time: readings that arrive later
are not reflected in the record.

Per zone and interval, in this order:

1. record metered import/export (metering), the cleared schedule (trading)
   and the forecast made for it, scoring the forecast (``forecast``);
2. choose the imbalance price (``pricing``) and, unless the rule is ``none``,
   write it to trading as the zone's imbalance price;
3. update the zone's model and forecast the next ``horizon`` intervals;
4. prune the record ``retain_ms`` older than the interval.
"""

from __future__ import annotations

from wattchain.modules.balancing import forecast, pricing
from wattchain.modules.balancing.keeper import BalancingKeeper
from wattchain.modules.balancing.types import (
    RULE_NONE,
    BalancingParams,
    Forecast,
    GridRegistry,
    IntervalRecord,
    MarketSchedule,
    MeteredEnergy,
    OracleFeeds,
    ZoneModel,
)
from wattchain.vm.interface import Context


class Balancer:
    def __init__(self, keeper: BalancingKeeper, energy: MeteredEnergy, registry: GridRegistry,
                 feeds: OracleFeeds, market: MarketSchedule) -> None:
        self.keeper = keeper
        self.energy = energy
        self.registry = registry
        self.feeds = feeds
        self.market = market

    def process_due(self, ctx: Context) -> None:
        zones = sorted(self.registry.zone_ids(ctx.state))
        if not zones:
            return  # nothing to balance: a chain without zones writes nothing here
        interval_ms = ctx.params.interval_ms
        current = ctx.time_ms // interval_ms * interval_ms
        stored = self.keeper.get_next(ctx.state)
        if stored is None:
            self.keeper.set_next(ctx.state, current)
            return
        params = self.keeper.get_params(ctx.state)
        next_start = max(stored, current - params.max_catch_up * interval_ms)
        while next_start + interval_ms <= ctx.time_ms:
            for zone in zones:
                self.process_interval(ctx, params, zone, next_start)
            next_start += interval_ms
        if next_start != stored:  # an idle block writes nothing
            self.keeper.set_next(ctx.state, next_start)

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
        wholesale = self.feeds.latest(state, "wholesale_price", zone, ctx.time_ms,
                                      params.oracle_max_age_ms)
        record.price, record.price_rule = pricing.compute_price(
            self.keeper.get_bounds(state, zone), wholesale, params.price_factor_per_mille,
            record.imbalance_wh)
        if record.price_rule != RULE_NONE:
            self.market.set_imbalance_price(state, zone, record.price)
        self.keeper.set_record(state, zone, start, record)
        forecast.observe(model, record.import_wh, self.seasonal(ctx, params, zone, start),
                         params.alpha_per_mille)
        model.forecasts = self.compute_forecasts(ctx, params, zone, start, model)
        self.keeper.set_model(state, zone, model)
        self.keeper.delete_record(state, zone, start - params.retain_ms)
        ctx.emit("interval_balanced", {
            "zone": zone, "interval": start, "import_wh": record.import_wh,
            "export_wh": record.export_wh, "scheduled_wh": record.scheduled_wh,
            "imbalance_wh": record.imbalance_wh, "price": record.price,
            "price_rule": record.price_rule})

    def seasonal(self, ctx: Context, params: BalancingParams, zone: str,
                 start: int) -> int | None:
        """Metered import of the same interval one season before ``start``, if on record."""
        earlier = self.keeper.get_record(ctx.state, zone, start - params.season_ms)
        return None if earlier is None else earlier.import_wh

    def compute_forecasts(self, ctx: Context, params: BalancingParams, zone: str, start: int,
                          model: ZoneModel) -> list[Forecast]:
        interval_ms = ctx.params.interval_ms
        capacity = self.registry.zone_capacity(ctx.state, zone, "solar", ctx.time_ms)
        irradiance = self.feeds.latest(ctx.state, "irradiance", zone, ctx.time_ms,
                                       params.oracle_max_age_ms)
        solar = forecast.compute_solar(capacity, irradiance, interval_ms)
        ahead = []
        for step in range(1, params.horizon + 1):
            target = start + step * interval_ms
            demand = forecast.compute_demand(model, self.seasonal(ctx, params, zone, target))
            ahead.append(Forecast(target, demand, solar))
        return ahead
