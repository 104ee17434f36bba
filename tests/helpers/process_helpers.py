"""Run real node processes for end-to-end tests (bounded in time, always stopped)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from wattchain.cli.node_cmd import init_home
from wattchain.node.config import Home


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def make_home(root: Path, min_block_ms: int = 100, empty_block_ms: int = 1000) -> tuple[Path, str]:
    """An initialised devnet home with a free RPC port; returns (home, rpc url)."""
    port = free_port()
    init_home(root, "wattchain-test", "node0", port, force=False)
    paths = Home(root)
    config = paths.load_config()
    config.producer.min_block_interval_ms = min_block_ms
    config.producer.empty_block_interval_ms = empty_block_ms
    paths.save_config(config)
    return root, f"http://127.0.0.1:{port}"


class NodeProcess:
    """`wattchain node start` as a child process."""

    def __init__(self, home: Path, url: str) -> None:
        self.home = home
        self.url = url
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = home / "node.log"

    def start(self, timeout: float = 30.0) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [sys.executable, "-m", "wattchain.cli.main", "node", "start", "--home",
             str(self.home)],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"node exited early:\n{self.log_path.read_text()}")
            try:
                httpx.post(self.url, json={"jsonrpc": "2.0", "id": 1, "method": "health"},
                           timeout=1.0)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"node did not start in {timeout}s:\n{self.log_path.read_text()}")

    def kill(self) -> None:
        """SIGKILL: no chance to flush or clean up."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def node_with_genesis(root: Path, params: dict[str, Any] | None = None,
                      app_state: dict[str, Any] | None = None, min_block_ms: int = 100,
                      empty_block_ms: int = 1000,
                      edit: Callable[[dict[str, Any]], None] | None = None,
                      ) -> Iterator[NodeProcess]:
    """A devnet node process; stopped after. ``params`` are merged into the
    genesis params and ``app_state`` sections replace the devnet's (e.g. short
    intervals so a whole market or metering cycle fits in a test); ``edit``, if
    given, then changes the genesis document in place (e.g. adds an account)."""
    home, url = make_home(root, min_block_ms=min_block_ms, empty_block_ms=empty_block_ms)
    genesis_file = home / "config" / "genesis.json"
    genesis = json.loads(genesis_file.read_text())
    genesis["params"].update(params or {})
    genesis["app_state"].update(app_state or {})
    if edit is not None:
        edit(genesis)
    genesis_file.write_text(json.dumps(genesis))
    node = NodeProcess(home, url)
    node.start()
    try:
        yield node
    finally:
        node.stop()
