"""Long fault and soak runs (``make chaos``), never part of ``make test``.

Every test collected below this folder is marked ``chaos`` and ``slow``: the
root conftest deselects it unless pytest runs with ``--chaos``. They hold
timing targets measured on a quiet machine (e.g. the RPC's p99 under a
slowloris attack), which a loaded test run cannot promise.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


@pytest.hookimpl(tryfirst=True)  # before the root conftest deselects by the mark
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.chaos)
            item.add_marker(pytest.mark.slow)
