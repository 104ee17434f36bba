"""Genesis import and export of the trading module.

Section: ``{"params": {...}, "records": [[key hex, value hex], ...]}``. The
records are the module's state below ``trd/`` other than its params, exported
as they are, so export -> import reproduces the state exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from wattchain.modules.trading import keys
from wattchain.modules.trading.keeper import TradingKeeper
from wattchain.modules.trading.types import Params
from wattchain.vm.state import Overlay, StateReader


def init_genesis(keeper: TradingKeeper, state: Overlay, section: Mapping[str, Any]) -> None:
    params = Params(**dict(section.get("params", {})))
    for value in params.to_list():
        if type(value) is not int or value < 0:
            raise ValueError("trading params must be non-negative integers")
    keeper.set_params(state, params)
    for key_hex, value_hex in section.get("records", []):
        key = bytes.fromhex(key_hex)
        if not key.startswith(keys.PREFIX) or key == keys.PARAMS_KEY:
            raise ValueError(f"trading record key {key_hex} is outside the module")
        state.set(key, bytes.fromhex(value_hex))


def export_genesis(keeper: TradingKeeper, state: StateReader) -> dict[str, Any]:
    return {
        "params": asdict(keeper.params(state)),
        "records": [[key.hex(), value.hex()] for key, value in state.iterate(keys.PREFIX)
                    if key != keys.PARAMS_KEY],
    }
