"""Readings verified per second inside one gateway batch (vm level, one core).

    .venv/bin/python bench/metering_batch.py [--batches 20] [--size 100]

Each batch is one ``metering.submit_readings`` tx of ``size`` signed readings
of distinct meters; the figure is readings accepted / seconds spent in
``process_block`` (signature recovery, checks, interval aggregation, writes).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "helpers"))

from chain_helpers import CHAIN_ID, execute, key, make_tx, nonce, run_block  # noqa: E402
from metering_helpers import GATEWAY, OPERATOR, T0, ZONE, met_chain  # noqa: E402

from wattchain.crypto import PrivateKey  # noqa: E402
from wattchain.modules.metering.ingest import sign_reading  # noqa: E402


def measure(batches: int, size: int) -> tuple[int, float]:
    """(readings accepted, seconds in process_block) over ``batches`` gateway batches."""
    chain = met_chain()
    meters = [PrivateKey((1000 + i).to_bytes(32, "big")) for i in range(size)]
    calls = [(method, args) for i, meter in enumerate(meters)
             for method, args in (
                 ("register_meter", [f"B{i}", "consumption", meter.public_key,
                                     key(3).address, ZONE, 0, 50_000, False]),
                 ("commission", [f"B{i}"]))]
    first = nonce(chain, OPERATOR)
    run_block(chain, [make_tx(OPERATOR, first + index, "metering", method, args)
                      for index, (method, args) in enumerate(calls)])
    elapsed, accepted = 0.0, 0
    for batch in range(batches):
        readings = [sign_reading(meter, CHAIN_ID, f"B{i}", batch + 1, T0 + batch * 60_000,
                                 batch * 100, 0) for i, meter in enumerate(meters)]
        stx = make_tx(GATEWAY, nonce(chain, GATEWAY), "metering", "submit_readings", [readings])
        started = time.perf_counter()
        block = execute(chain, [stx])
        elapsed += time.perf_counter() - started
        run_block(chain, [stx])
        (result,) = block.tx_results
        summary = next(e for e in result.events if e.kind == "readings")
        accepted += int(dict(summary.attributes)["accepted"])
    return accepted, elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--size", type=int, default=100)
    options = parser.parse_args()
    accepted, elapsed = measure(options.batches, options.size)
    print(f"{accepted} readings in {options.batches} batches of {options.size}: "
          f"{accepted / elapsed:,.0f} readings verified/s (process_block only)")


if __name__ == "__main__":
    main()
