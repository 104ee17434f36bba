"""Builders for trading tests: a market with a zone, certified and uncertified assets."""

from __future__ import annotations

from typing import Any

from chain_helpers import (
    ALICE,
    BOB,
    DAVE,
    Chain,
    account_entry,
    make_genesis,
    query,
    run_block,
    send,
    start_chain,
)
from metering_helpers import metering_accounts
from registration_helpers import (
    FUNDS,
    activate,
    add_asset,
    certify,
    setup_producer,
    setup_zone,
)

from wattchain.crypto import PrivateKey
from wattchain.vm.execution import TxResult

INTERVAL_MS = 60_000


def market() -> tuple[Chain, int, int]:
    """A zone; Alice with a certified solar asset, Bob with an uncertified one."""
    genesis = make_genesis(metering_accounts() + [account_entry(DAVE, FUNDS)])
    chain = start_chain(genesis)
    setup_zone(chain, hosting_w=500_000)
    setup_producer(chain, ALICE)
    setup_producer(chain, BOB, "business")
    solar = add_asset(chain, ALICE, capacity_w=60_000)  # 1,000 Wh per minute interval
    wind = add_asset(chain, BOB, asset_type="wind", capacity_w=60_000, serial="SN-W1")
    activate(chain, solar)
    activate(chain, wind)
    assert certify(chain, solar).ok
    return chain, solar, wind


def next_interval(chain: Chain, lead_ms: int = 180_000) -> int:
    return (chain.time_ms + lead_ms) // INTERVAL_MS * INTERVAL_MS + INTERVAL_MS


def trade(chain: Chain, signer: PrivateKey, method: str, *args: Any) -> TxResult:
    return send(chain, signer, "trading", method, *args)


def bid(chain: Chain, who: PrivateKey, interval: int, wh: int, price: int,
        renewable: int = 0, counterparty: bytes = b"") -> TxResult:
    return trade(chain, who, "place_order", "buy", "north", interval, wh, price, 0, renewable,
                 counterparty, 0)


def ask(chain: Chain, who: PrivateKey, asset: int, interval: int, wh: int, price: int,
        counterparty: bytes = b"") -> TxResult:
    return trade(chain, who, "place_order", "sell", "north", interval, wh, price, 0, 0,
                 counterparty, asset)


def run_until(chain: Chain, time_ms: int) -> None:
    while chain.time_ms < time_ms:
        run_block(chain, [])


def balance(chain: Chain, who: bytes) -> int:
    return int(query(chain, "accounts/balance", address="0x" + who.hex())["balance"])
