"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from process_helpers import NodeProcess, node_with_genesis


@pytest.fixture
def node_process(tmp_path: Path) -> Iterator[NodeProcess]:
    """A devnet node running as a real process; stopped after the test."""
    with node_with_genesis(tmp_path / "home") as node:
        yield node
