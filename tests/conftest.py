"""Shared fixtures; the guard that keeps ``pytest -m "not slow"`` free of
processes (a test that starts one, be it a node, the CLI, a testnet, the demo
or a bench run, must be marked ``slow``); and the ``--chaos`` switch: tests
marked ``chaos`` (long fault and soak runs) are deselected without it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from process_helpers import NodeProcess, node_with_genesis

# Audit events (PEP 578) raised whenever Python starts another program.
SPAWN_EVENTS = frozenset({"subprocess.Popen", "os.system", "os.exec", "os.spawn",
                          "os.posix_spawn", "os.fork", "os.forkpty"})


class SpawnWatch:
    """What the test now running started; only watched for tests not marked slow."""

    watching = False
    started: list[str] = []

    @classmethod
    def audit(cls, event: str, args: tuple[Any, ...]) -> None:
        if cls.watching and event in SPAWN_EVENTS:
            cls.started.append(f"{event} {args[:2]!r}")


sys.addaudithook(SpawnWatch.audit)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--chaos", action="store_true",
                     help="also run the tests marked chaos (long fault and soak runs)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without --chaos, deselect the chaos tests (so `make test` never runs them)."""
    if config.getoption("--chaos"):
        return
    chaos = [item for item in items if item.get_closest_marker("chaos") is not None]
    if chaos:
        config.hook.pytest_deselected(items=chaos)
        items[:] = [item for item in items if item.get_closest_marker("chaos") is None]


@pytest.fixture(autouse=True)
def slow_if_it_starts_a_process(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test (at teardown) that starts a process but is not marked ``slow``."""
    if request.node.get_closest_marker("slow") is not None:
        yield
        return
    SpawnWatch.started, SpawnWatch.watching = [], True
    try:
        yield
    finally:
        SpawnWatch.watching = False
    if SpawnWatch.started:
        pytest.fail("starts a process but is not marked slow: " + SpawnWatch.started[0],
                    pytrace=False)


@pytest.fixture
def node_process(tmp_path: Path) -> Iterator[NodeProcess]:
    """A devnet node running as a real process; stopped after the test."""
    with node_with_genesis(tmp_path / "home") as node:
        yield node
