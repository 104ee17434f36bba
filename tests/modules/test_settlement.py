"""Settlement of trades against metered delivery, and certificates."""

from __future__ import annotations

from typing import Any

from chain_helpers import ALICE, CAROL, DAVE, Chain, query, run_block
from metering_helpers import add_meter, reading, relay
from registration_helpers import DSO
from trading_helpers import ask, balance, bid, market, next_interval, run_until, trade

from wattchain.modules.trading.types import ESCROW_ACCOUNT
from wattchain.vm.state import Overlay

DELAY_MS = 120_000  # default settlement delay
INTERVAL_MS = 60_000


def deliver(chain: Chain, meter: str, interval: int, exported_wh: int, seq: int = 1) -> None:
    """Meter readings bracketing the interval: ``exported_wh`` leaves the site in it."""
    relay(chain, [reading(meter, seq, interval, 0, 0),
                  reading(meter, seq + 1, interval + INTERVAL_MS, 0, exported_wh)])


def trades_of(chain: Chain, who: Any) -> list[dict[str, Any]]:
    return query(chain, "trading/trades", account="0x" + who.address.hex())["trades"]


def test_delivered_energy_is_paid_and_the_shortfall_penalised() -> None:
    chain, solar, _ = market()
    add_meter(chain, "PV1", "production", account=ALICE, asset_id=solar)
    assert trade(chain, DSO, "set_imbalance_price", "north", 200_000).ok
    interval = next_interval(chain)
    assert bid(chain, CAROL, interval, 500, 100_000).ok
    assert ask(chain, ALICE, solar, interval, 500, 50_000).ok
    run_until(chain, interval + INTERVAL_MS)
    (cleared,) = trades_of(chain, CAROL)
    assert cleared["price"] == 75_000 and not cleared["settled"]
    alice, carol = balance(chain, ALICE.address), balance(chain, CAROL.address)
    deliver(chain, "PV1", interval, 300)  # 300 of the 500 Wh sold reach the grid
    run_until(chain, interval + INTERVAL_MS + DELAY_MS)
    (settled,) = trades_of(chain, CAROL)
    assert settled["settled"] and settled["delivered_wh"] == 300
    paid = 300 * 75_000 // 1000
    penalty = 200 * (200_000 - 75_000) // 1000
    assert settled["paid"] == paid and settled["penalty"] == penalty
    assert balance(chain, ALICE.address) == alice + paid - penalty
    # Carol: escrowed cost minus the delivered payment back, plus the penalty
    assert balance(chain, CAROL.address) == carol + (500 * 75_000 // 1000 - paid) + penalty
    assert balance(chain, ESCROW_ACCOUNT) == 0
    certificates = query(chain, "trading/certificates", owner="0x" + CAROL.address.hex())
    assert certificates["active_wh"] == 300  # Alice's solar is certified renewable


def test_seller_delivery_is_shared_pro_rata_over_its_trades() -> None:
    chain, solar, _ = market()
    add_meter(chain, "PV1", "production", account=ALICE, asset_id=solar)
    interval = next_interval(chain)
    assert bid(chain, CAROL, interval, 300, 100_000).ok
    assert bid(chain, DAVE, interval, 100, 100_000).ok
    assert ask(chain, ALICE, solar, interval, 400, 100_000).ok
    run_until(chain, interval + INTERVAL_MS)
    deliver(chain, "PV1", interval, 201)
    run_until(chain, interval + INTERVAL_MS + DELAY_MS)
    delivered = {t["buyer"]: t["delivered_wh"] for t in trades_of(chain, ALICE)}
    # 201 Wh over 300 + 100 sold: 150.75 and 50.25 -> 150 and 50, the 1 Wh left to the
    # lower trade id (Carol's)
    assert delivered == {"0x" + CAROL.address.hex(): 151, "0x" + DAVE.address.hex(): 50}


def test_certificates_transfer_and_retire() -> None:
    chain, solar, _ = market()
    add_meter(chain, "PV1", "production", account=ALICE, asset_id=solar)
    interval = next_interval(chain)
    assert bid(chain, CAROL, interval, 100, 100_000).ok
    assert ask(chain, ALICE, solar, interval, 100, 100_000).ok
    run_until(chain, interval + INTERVAL_MS)
    deliver(chain, "PV1", interval, 100)
    run_until(chain, interval + INTERVAL_MS + DELAY_MS)
    (cert,) = query(chain, "trading/certificates",
                    owner="0x" + CAROL.address.hex())["certificates"]
    assert (cert["asset_id"], cert["interval_start"], cert["wh"]) == (solar, interval, 100)
    assert not trade(chain, ALICE, "retire_certificate", cert["certificate_id"], "x").ok
    assert trade(chain, CAROL, "transfer_certificate", cert["certificate_id"],
                 DSO.address).ok
    assert trade(chain, DSO, "retire_certificate", cert["certificate_id"],
                 "Town hall, 2026 renewable claim").ok
    held = query(chain, "trading/certificates", owner="0x" + DSO.address.hex())
    assert held["retired_wh"] == 100 and held["certificates"][0]["beneficiary"]
    assert not trade(chain, DSO, "transfer_certificate", cert["certificate_id"],
                     CAROL.address).ok  # retired: final
    assert query(chain, "trading/certificates",
                 owner="0x" + CAROL.address.hex())["certificates"] == []


def test_nothing_delivered_refunds_the_buyer() -> None:
    chain, solar, wind = market()
    interval = next_interval(chain)
    carol = balance(chain, CAROL.address)
    assert bid(chain, CAROL, interval, 200, 90_000).ok
    assert ask(chain, ALICE, solar, interval, 200, 90_000).ok
    run_until(chain, interval + INTERVAL_MS + DELAY_MS)
    (settled,) = trades_of(chain, CAROL)
    assert settled["settled"] and settled["delivered_wh"] == 0 and settled["paid"] == 0
    assert balance(chain, CAROL.address) == carol - 10  # only the tx fee
    run_block(chain, [])


def test_a_shortfall_is_charged_at_the_imbalance_price_of_its_own_interval() -> None:
    """Balancing prices each interval (trd/imbi/); settlement uses that price, not
    the zone's current one, and the penalty only moves money."""
    chain, solar, _ = market()
    add_meter(chain, "PV1", "production", account=ALICE, asset_id=solar)
    assert trade(chain, DSO, "set_imbalance_price", "north", 90_000).ok  # the current price
    interval = next_interval(chain)
    assert bid(chain, CAROL, interval, 500, 100_000).ok
    assert ask(chain, ALICE, solar, interval, 500, 50_000).ok
    trading = next(m for m in chain.vm.modules if m.name == "trading")
    overlay = Overlay(chain.state)
    trading.keeper.set_interval_imbalance_price(overlay, "north", interval, 250_000)
    chain.state.apply(overlay.writes)
    supply = query(chain, "accounts/supply")["supply"]
    run_until(chain, interval + INTERVAL_MS)
    deliver(chain, "PV1", interval, 300)
    run_until(chain, interval + INTERVAL_MS + DELAY_MS)
    (settled,) = trades_of(chain, CAROL)
    assert settled["price"] == 75_000
    assert settled["penalty"] == 200 * (250_000 - 75_000) // 1000  # not at 90,000
    assert query(chain, "accounts/supply")["supply"] == supply
