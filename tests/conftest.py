"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from process_helpers import NodeProcess, make_home


@pytest.fixture
def node_process(tmp_path: Path) -> Iterator[NodeProcess]:
    """A devnet node running as a real process; stopped after the test."""
    home, url = make_home(tmp_path / "home")
    node = NodeProcess(home, url)
    node.start()
    try:
        yield node
    finally:
        node.stop()
