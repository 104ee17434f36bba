"""The live terminal dashboard of ``wattchain demo``: a snapshot in, a rich
renderable out.

``render(snapshot)`` is pure: it reads a plain dict gathered by the demo loop
once per chain interval and returns something ``rich.live.Live`` can show. It
never raises on a partial snapshot: a missing key, a ``None`` or a value of the
wrong type is shown as ``-`` (during startup the loop passes what it has).

Units of the snapshot: energy in Wh over one chain interval, power in W,
prices in micro-units per kWh. On screen prices are ct/kWh (micro / 10_000)
and energy over an interval is also shown as its average power in kW
(``wh * 3_600_000 / interval_ms / 1000``).

Layout, top to bottom: emergency banners (only when a zone has one), header,
validators | zones, trades | dispatches, log, footer. At 120 columns or more
the pairs sit side by side; narrower, they stack. At 120x40 everything fits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich import box
from rich.console import (
    Console,
    ConsoleOptions,
    Group,
    JustifyMethod,
    RenderableType,
    RenderResult,
)
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

MISSING = "-"
SIDE_BY_SIDE_MIN_WIDTH = 120  # two trade tables of ~60 columns each
# (trades and dispatches rows, log lines), roomiest first
BUDGETS = ((8, 5), (5, 3), (3, 2), (1, 1), (0, 0))
MARKET_STYLES = {"open": "green", "capped": "yellow", "suspended": "bold red"}
BANNER_STYLE = "bold white on red"


# -- reading the snapshot ---------------------------------------------------------------


def get_field(source: Any, key: str) -> Any:
    """``source[key]`` when ``source`` is a mapping holding it, else ``None``."""
    if isinstance(source, Mapping):
        return source.get(key)
    return None


def get_number(source: Any, key: str) -> int | float | None:
    """A numeric field, or ``None`` when missing or not a number (bools are not)."""
    value = get_field(source, key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def get_mappings(source: Any, key: str) -> list[Mapping[str, Any]]:
    """The mapping entries of a list field; anything else is dropped."""
    value = get_field(source, key)
    if not isinstance(value, list | tuple):
        return []
    return [entry for entry in value if isinstance(entry, Mapping)]


# -- formatting -------------------------------------------------------------------------


def format_text(value: Any) -> str:
    return MISSING if value is None else str(value)


def format_int(value: int | float | None) -> str:
    return MISSING if value is None else f"{int(value):,}"


def format_price(micro_per_kwh: int | float | None) -> str:
    """Micro-units per kWh as cents per kWh: 250_000 -> ``25.0 ct/kWh``."""
    if micro_per_kwh is None:
        return MISSING
    return f"{micro_per_kwh / 10_000:.1f} ct/kWh"


def compute_kw(wh: int | float | None, interval_ms: int | float | None) -> float | None:
    """Average power in kW of ``wh`` delivered over one interval of ``interval_ms``."""
    if wh is None or interval_ms is None or interval_ms <= 0:
        return None
    return wh * 3_600_000 / interval_ms / 1000


def format_kw(wh: int | float | None, interval_ms: int | float | None, sign: bool = False) -> str:
    kw = compute_kw(wh, interval_ms)
    if kw is None:
        return MISSING
    return f"{kw:+.1f} kW" if sign else f"{kw:.1f} kW"


def format_kwh(wh: int | float | None) -> str:
    return MISSING if wh is None else f"{wh / 1000:.1f} kWh"


def format_pair(first: str, second: str, unit: str) -> str:
    """``a / b unit``, or ``-`` when both halves are missing."""
    if first == MISSING and second == MISSING:
        return MISSING
    return f"{first} / {second} {unit}"


def format_soc(soc_wh: int | float | None, storage_wh: int | float | None) -> str:
    if soc_wh is None:
        return MISSING
    if storage_wh is None or storage_wh <= 0:
        return format_kwh(soc_wh)
    return f"{100 * soc_wh / storage_wh:.0f} % of {storage_wh / 1000:.0f} kWh"


def format_market(market: Any) -> Text:
    if market is None:
        return Text(MISSING)
    return Text(str(market), style=MARKET_STYLES.get(str(market), ""))


def format_up(up: Any) -> Text:
    if up is True:
        return Text("up", style="green")
    if up is False:
        return Text("down", style="bold red")
    return Text(MISSING)


def shorten_hash(app_hash: Any, length: int = 10) -> str:
    if not app_hash:
        return MISSING
    return str(app_hash)[:length]


# -- sections ---------------------------------------------------------------------------


def make_table(*columns: str, right_from: int = 1) -> Table:
    """A borderless table; columns from ``right_from`` on are numbers, right aligned."""
    table = Table(box=None, expand=True, pad_edge=False, header_style="bold")
    for index, column in enumerate(columns):
        justify: JustifyMethod = "right" if index >= right_from else "left"
        table.add_column(column, justify=justify, no_wrap=True, overflow="ellipsis")
    return table


def add_placeholder_row(table: Table) -> None:
    """A row of ``-`` in a table with no data, so an empty section reads as such."""
    if table.row_count == 0:
        table.add_row(*(MISSING for _ in table.columns))


def make_panel(body: RenderableType, title: str) -> Panel:
    return Panel(body, title=title, title_align="left", box=box.ROUNDED, padding=(0, 1))


def render_emergencies(snapshot: Mapping[str, Any]) -> list[RenderableType]:
    """One bold white-on-red line per zone under an emergency; none otherwise."""
    zones = get_field(snapshot, "zones")
    if not isinstance(zones, Mapping):
        return []
    banners: list[RenderableType] = []
    for name, zone in zones.items():
        emergency = get_field(zone, "emergency")
        if not emergency:
            continue
        message = f"EMERGENCY {name}: {format_text(get_field(emergency, 'kind'))}"
        severity = get_field(emergency, "severity")
        if severity is not None:
            message += f" (severity {severity})"
        market = get_field(zone, "market")
        if market is not None:
            message += f" — market {market}"
        message += describe_expiry(snapshot, emergency)
        text = Text(message, style=BANNER_STYLE, justify="center")
        banners.append(Padding(text, (0, 1), style=BANNER_STYLE, expand=True))
    return banners


def describe_expiry(snapshot: Mapping[str, Any], emergency: Any) -> str:
    """``, expires in N intervals`` when the chain times allow it, else empty."""
    expiry_ms = get_number(emergency, "expiry_ms")
    start_ms = get_number(snapshot, "interval_start")
    interval_ms = get_number(snapshot, "interval_ms")
    if expiry_ms is None or start_ms is None or interval_ms is None or interval_ms <= 0:
        return ""
    remaining = max(0, -(-(expiry_ms - start_ms) // interval_ms))
    return f", expires in {int(remaining)} interval{'' if remaining == 1 else 's'}"


def render_header(snapshot: Mapping[str, Any]) -> Text:
    tps = get_number(snapshot, "tps")
    parts = [
        ("height ", format_int(get_number(snapshot, "height"))),
        ("", f"{MISSING if tps is None else f'{tps:.1f}'} tx/s"),
        ("", f"{format_int(get_number(snapshot, 'txs'))} txs"),
        ("sim ", format_text(get_field(snapshot, "sim_time"))),
        ("interval #", format_int(get_number(snapshot, "interval"))),
    ]
    header = Text("WattChain demo", style="bold cyan")
    for label, value in parts:
        header.append("  |  ", style="dim")
        header.append(label)
        header.append(value, style="bold")
    return header


def render_validators(snapshot: Mapping[str, Any]) -> Panel:
    table = make_table("name", "height", "round", "peers", "app hash", "status")
    table.columns[4].justify = "left"
    table.columns[5].justify = "left"
    for validator in get_mappings(snapshot, "validators"):
        table.add_row(
            format_text(get_field(validator, "name")),
            format_int(get_number(validator, "height")),
            format_int(get_number(validator, "round")),
            format_int(get_number(validator, "peers")),
            shorten_hash(get_field(validator, "app_hash")),
            format_up(get_field(validator, "up")),
        )
    add_placeholder_row(table)
    return make_panel(table, "Validators")


def render_zones(snapshot: Mapping[str, Any]) -> Panel:
    zones = get_field(snapshot, "zones")
    zones = dict(zones) if isinstance(zones, Mapping) else {}
    if not zones:
        zones = {MISSING: None}
    interval_ms = get_number(snapshot, "interval_ms")
    table = make_table("", *(str(name) for name in zones))
    rows: list[tuple[str, list[str | Text]]] = [
        ("demand (import)", []), ("supply (export)", []), ("imbalance", []),
        ("forecast imbalance", []), ("clearing price", []), ("cleared / scheduled", []),
        ("imbalance price", []), ("flex up / down", []), ("storage SoC", []), ("market", []),
    ]
    for zone in zones.values():
        cells = describe_zone(zone, interval_ms)
        for (_, row), cell in zip(rows, cells, strict=True):
            row.append(cell)
    for label, cells in rows:
        table.add_row(label, *cells)
    return make_panel(table, "Zones")


def describe_zone(zone: Any, interval_ms: int | float | None) -> list[str | Text]:
    """The cells of one zone column, in the row order of ``render_zones``."""

    def kw(key: str, sign: bool = False) -> str:
        return format_kw(get_number(zone, key), interval_ms, sign=sign)

    def kwh(key: str) -> str:
        wh = get_number(zone, key)
        return MISSING if wh is None else f"{wh / 1000:.1f}"

    def kw_number(key: str) -> str:
        power = compute_kw(get_number(zone, key), interval_ms)
        return MISSING if power is None else f"{power:.1f}"

    return [
        kw("import_wh"),
        kw("export_wh"),
        kw("imbalance_wh", sign=True),
        kw("forecast_imbalance_wh", sign=True),
        format_price(get_number(zone, "clearing_price")),
        format_pair(kwh("cleared_wh"), kwh("scheduled_wh"), "kWh"),
        format_price(get_number(zone, "imbalance_price")),
        format_pair(kw_number("flex_up_wh"), kw_number("flex_down_wh"), "kW"),
        format_soc(get_number(zone, "soc_wh"), get_number(zone, "storage_wh")),
        format_market(get_field(zone, "market")),
    ]


def render_events(snapshot: Mapping[str, Any], key: str, title: str,
                  names: tuple[str, str, str], rows: int) -> Panel:
    """The newest ``rows`` entries of a list of energy events (trades,
    dispatches): three text fields ``names``, then Wh, kW and price."""
    interval_ms = get_number(snapshot, "interval_ms")
    table = make_table(*names, "Wh", "kW", "price", right_from=3)
    for event in get_mappings(snapshot, key)[:rows]:
        wh = get_number(event, "wh")
        power = compute_kw(wh, interval_ms)
        table.add_row(
            *(format_text(get_field(event, name)) for name in names),
            format_int(wh),
            MISSING if power is None else f"{power:.1f}",
            format_price(get_number(event, "price")),
        )
    add_placeholder_row(table)
    return make_panel(table, title)


def render_trades(snapshot: Mapping[str, Any], rows: int) -> Panel:
    return render_events(snapshot, "trades", "Recent trades", ("zone", "buyer", "seller"), rows)


def render_dispatches(snapshot: Mapping[str, Any], rows: int) -> Panel:
    names = ("zone", "action", "asset")
    return render_events(snapshot, "dispatches", "Flexibility dispatches", names, rows)


def render_log(snapshot: Mapping[str, Any], lines: int) -> Panel:
    """The last ``lines`` log lines (``lines`` > 0), newest last."""
    log = get_field(snapshot, "log")
    recent = [str(line) for line in log[-lines:]] if isinstance(log, list | tuple) else []
    body = Text("\n".join(recent) if recent else MISSING, no_wrap=True, overflow="ellipsis")
    return make_panel(body, "Log")


def render_footer(snapshot: Mapping[str, Any]) -> Text:
    footer = Text()
    footer.append("bills verified ")
    footer.append(format_int(get_number(snapshot, "bills_verified")), style="bold")
    footer.append("  |  ", style="dim")
    footer.append("certificates ")
    footer.append(format_int(get_number(snapshot, "certificates")), style="bold")
    footer.append("  |  ", style="dim")
    footer.append("Ctrl-C stops", style="dim")
    return footer


class SideBySide:
    """Two renderables next to each other, widths in ``ratio``, when the width
    allows; stacked otherwise."""

    def __init__(self, left: RenderableType, right: RenderableType,
                 ratio: tuple[int, int] = (1, 1)) -> None:
        self.left = left
        self.right = right
        self.ratio = ratio

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if options.max_width < SIDE_BY_SIDE_MIN_WIDTH:
            yield self.left
            yield self.right
            return
        grid = Table.grid(expand=True)
        grid.add_column(ratio=self.ratio[0])
        grid.add_column(ratio=self.ratio[1])
        grid.add_row(self.left, self.right)
        yield grid


def render_sections(snapshot: Mapping[str, Any], recent_rows: int, log_lines: int) -> Group:
    """The dashboard with at most ``recent_rows`` trades and dispatches and
    ``log_lines`` log lines; a section given 0 is left out."""
    parts: list[RenderableType] = [
        *render_emergencies(snapshot),
        render_header(snapshot),
        SideBySide(render_validators(snapshot), render_zones(snapshot), ratio=(5, 6)),
    ]
    if recent_rows > 0:
        trades = render_trades(snapshot, recent_rows)
        parts.append(SideBySide(trades, render_dispatches(snapshot, recent_rows)))
    if log_lines > 0:
        parts.append(render_log(snapshot, log_lines))
    parts.append(render_footer(snapshot))
    return Group(*parts)


class Dashboard:
    """The dashboard of one snapshot, trimmed to the height it is given.

    Rendering tries the budgets of ``BUDGETS`` in order and keeps the first
    that fits the available height (``options.height``, else the console's),
    so a short terminal loses old trades and log lines before the validators,
    zones and footer. When even the smallest does not fit, it is used anyway
    and the caller's overflow rule (``Live(vertical_overflow=...)``) applies.
    """

    def __init__(self, snapshot: Mapping[str, Any]) -> None:
        self.snapshot = snapshot

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        height = options.height if options.height is not None else options.size.height
        unbounded = options.update(height=None)
        for recent_rows, log_lines in BUDGETS:
            sections = render_sections(self.snapshot, recent_rows, log_lines)
            if len(console.render_lines(sections, unbounded, pad=False)) <= height:
                break
        yield sections


def render(snapshot: dict[str, Any]) -> RenderableType:
    """The whole dashboard for one snapshot, for ``rich.live.Live`` or
    ``Console.print``; never raises on missing, ``None`` or mistyped fields."""
    return Dashboard(snapshot if isinstance(snapshot, Mapping) else {})
