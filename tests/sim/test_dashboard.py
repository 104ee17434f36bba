"""The demo's terminal dashboard: a snapshot rendered to text, full, partial and empty."""

from __future__ import annotations

import copy
import io
from typing import Any

from rich.console import Console

from wattchain.sim.dashboard import compute_kw, format_price, render

INTERVAL_MS = 15_000

SNAPSHOT: dict[str, Any] = {
    "interval": 12,
    "interval_start": 1_767_225_660_000,
    "interval_ms": INTERVAL_MS,
    "sim_time": "2025-06-21 08:15",
    "height": 1234,
    "tps": 12.5,
    "txs": 345,
    "validators": [
        {"name": f"node{index}", "height": 1234, "round": 0, "peers": 3,
         "app_hash": "ab12cd34ef56ab12cd34", "up": index != 3}
        for index in range(4)
    ],
    "zones": {
        "north": {
            "clearing_price": 230_000, "cleared_wh": 1200, "scheduled_wh": 1200,
            "import_wh": 3000, "export_wh": 2500, "imbalance_wh": 500,
            "forecast_imbalance_wh": 450, "flex_up_wh": 300, "flex_down_wh": 0,
            "imbalance_price": 260_000, "soc_wh": 40_000, "storage_wh": 100_000,
            "market": "suspended",
            "emergency": {"kind": "shortage", "severity": 2, "expiry_ms": 1_767_225_705_000},
        },
        "south": {
            "clearing_price": None, "cleared_wh": 0, "scheduled_wh": 0,
            "import_wh": 2000, "export_wh": 2600, "imbalance_wh": -600,
            "forecast_imbalance_wh": -500, "flex_up_wh": 0, "flex_down_wh": 200,
            "imbalance_price": 90_000, "soc_wh": 80_000, "storage_wh": 100_000,
            "market": "open", "emergency": None,
        },
    },
    "trades": [
        {"zone": "north", "buyer": f"home-{index:02}", "seller": "wind-farm",
         "wh": 120, "price": 230_000}
        for index in range(10)
    ],
    "dispatches": [
        {"zone": "north", "action": "discharge", "asset": "battery-house-07",
         "wh": 40, "price": 90_000},
    ],
    "log": [f"08:1{index} north: event {index}" for index in range(7)],
    "bills_verified": 40,
    "certificates": 310,
}


def render_text(snapshot: Any, width: int = 120, height: int = 40, styles: bool = False) -> str:
    console = Console(record=True, width=width, height=height, color_system="standard",
                      force_terminal=styles, file=io.StringIO())
    console.print(render(snapshot))
    return console.export_text(styles=styles)


def line_with(text: str, needle: str) -> str:
    return next(line for line in text.splitlines() if needle in line)


def without_emergencies() -> dict[str, Any]:
    snapshot = copy.deepcopy(SNAPSHOT)
    for zone in snapshot["zones"].values():
        zone["emergency"] = None
    return snapshot


def test_full_snapshot_fits_120_by_40() -> None:
    text = render_text(SNAPSHOT)
    assert len(text.splitlines()) <= 40
    assert all(len(line) <= 120 for line in text.splitlines())
    assert "WattChain demo" in text
    assert "height 1,234" in text and "12.5 tx/s" in text
    assert "sim 2025-06-21 08:15" in text and "interval #12" in text
    assert "bills verified 40" in text and "certificates 310" in text
    assert "Ctrl-C stops" in text


def test_emergency_banner_names_zone_kind_severity_and_market() -> None:
    text = render_text(SNAPSHOT)
    banner = line_with(text, "EMERGENCY")
    assert "EMERGENCY north: shortage (severity 2) — market suspended" in banner
    assert "expires in 3 intervals" in banner
    assert text.index("EMERGENCY") < text.index("WattChain demo")
    assert "EMERGENCY south" not in text


def test_emergency_banner_is_bold_white_on_red() -> None:
    ansi = render_text(SNAPSHOT, styles=True)
    assert "\x1b[1;37;41m" in ansi


def test_no_banner_without_emergency() -> None:
    assert "EMERGENCY" not in render_text(without_emergencies())


def test_prices_show_as_cents_per_kwh() -> None:
    assert format_price(250_000) == "25.0 ct/kWh"
    assert format_price(-12_345) == "-1.2 ct/kWh"
    assert format_price(None) == "-"
    text = render_text(SNAPSHOT)
    assert "23.0 ct/kWh" in line_with(text, "clearing price")
    assert "26.0 ct/kWh" in line_with(text, "imbalance price")
    assert "9.0 ct/kWh" in line_with(text, "battery-house-07")
    assert "230000" not in text and "230,000" not in text


def test_south_without_clearing_price_shows_a_dash() -> None:
    row = line_with(render_text(SNAPSHOT), "clearing price")
    assert row.rstrip(" │").endswith("-")


def test_energy_per_interval_shows_as_average_kw() -> None:
    assert compute_kw(3000, INTERVAL_MS) == 720.0
    assert compute_kw(3000, 0) is None
    text = render_text(SNAPSHOT)
    assert "720.0 kW" in line_with(text, "demand (import)")
    assert "624.0 kW" in line_with(text, "supply (export)")
    assert "+120.0 kW" in line_with(text, "imbalance")
    assert "40 % of 100 kWh" in line_with(text, "storage SoC")
    assert "28.8" in line_with(text, "home-00")


def test_down_validator_is_shown_down() -> None:
    text = render_text(SNAPSHOT)
    assert "down" in line_with(text, "node3")
    assert "up" in line_with(text, "node0")
    assert "down" not in line_with(text, "node0")


def test_empty_snapshot_renders_dashes() -> None:
    text = render_text({})
    assert "WattChain demo" in text and "height -" in text
    assert "Ctrl-C stops" in text
    assert "EMERGENCY" not in text
    assert "-" in line_with(text, "clearing price")


def test_partial_and_mistyped_snapshot_does_not_crash() -> None:
    partial: dict[str, Any] = {
        "interval_ms": 0,
        "height": None,
        "tps": "fast",
        "validators": [{"name": "node0"}, None, "node1"],
        "zones": {"north": {"clearing_price": None, "emergency": {}, "storage_wh": 0,
                            "soc_wh": 10}, "south": None},
        "trades": [None, {"zone": "north"}],
        "dispatches": "none yet",
        "log": None,
    }
    text = render_text(partial)
    assert "node0" in text and "Ctrl-C stops" in text
    assert "EMERGENCY" not in text
    assert "Ctrl-C stops" in render_text(None)


def test_short_terminal_drops_old_rows_first() -> None:
    text = render_text(SNAPSHOT, height=30)
    assert len(text.splitlines()) <= 30
    assert "home-00" in text and "home-04" in text and "home-05" not in text
    assert "node3" in text and "storage SoC" in text and "Ctrl-C stops" in text


def test_narrow_terminal_stacks_sections() -> None:
    text = render_text(SNAPSHOT, width=80, height=60)
    assert all(len(line) <= 80 for line in text.splitlines())
    assert text.index("Validators") < text.index("Zones")
    assert "Validators" not in line_with(text, "Zones")
    assert "23.0 ct/kWh" in line_with(text, "clearing price")
