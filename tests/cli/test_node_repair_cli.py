"""`wattchain node check` and `wattchain node repair` on a damaged home (in-process),
and `wattchain node start` refusing a damaged store with one line (a process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from store_damage import (
    Built,
    block_key,
    build_home,
    change_balance,
    delete_key,
    flip_block_bytes,
    garbage_in_middle,
    settle,
    wal_with_frames,
)
from typer.testing import CliRunner, Result

from wattchain.cli.main import app

runner = CliRunner()


@pytest.fixture
def built(tmp_path: Path) -> Built:
    return build_home(tmp_path / "home")


def node(built: Built, *args: str) -> Result:
    return runner.invoke(app, ["node", *args, "--home", str(built.devnet.home.root)])


def error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if "Error" in line]


def test_check_passes_an_intact_store(built: Built) -> None:
    result = node(built, "check", "--output", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"damaged": False, "damage": {}, "notes": []}


def test_check_finds_a_changed_state_key_and_repair_rebuilds_it(built: Built) -> None:
    change_balance(built)
    found = node(built, "check", "--output", "json")
    assert found.exit_code == 1
    assert list(json.loads(found.stdout)["damage"]) == ["state"]
    assert "node repair" in found.stderr
    repaired = node(built, "repair", "--output", "json")
    assert repaired.exit_code == 0, repaired.output
    assert json.loads(repaired.stdout)["repaired"] is True
    assert node(built, "check").exit_code == 0


def test_repair_refuses_lost_blocks_with_one_line(built: Built) -> None:
    delete_key(built, block_key(3))
    result = node(built, "repair")
    assert result.exit_code == 1
    (line,) = error_lines(result.stderr)
    assert "heights 3 " in line and "--peer" in line
    assert len(result.stderr.strip().splitlines()) == 1
    assert node(built, "check").exit_code == 1  # nothing was changed


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["tip block table", "wal middle"])
def test_node_start_refuses_a_damaged_store_with_one_line(built: Built, damage: str) -> None:
    if damage == "tip block table":
        settle(built.db)
        named = flip_block_bytes(built, built.tip)
    else:
        wal = built.devnet.home.wal_file
        wal_with_frames(wal, count=4)
        garbage_in_middle(wal)
        named = wal.name
    started = subprocess.run(
        [sys.executable, "-m", "wattchain.cli.main", "node", "start", "--home",
         str(built.devnet.home.root)], capture_output=True, text=True, timeout=60)
    assert started.returncode == 1, started.stderr
    assert "Traceback" not in started.stderr
    (line,) = error_lines(started.stderr)
    assert named in line and "wattchain node repair --home" in line
    result = node(built, "repair")
    assert result.exit_code == (0 if damage == "wal middle" else 1)  # blocks need a peer
