"""The layering rule of DESIGN.md, enforced on the import graph.

primitives <- consensus, vm, modules <- genesis <- node <- cli, sim;
client (the Python SDK) sits on primitives and modules, under cli and sim.
consensus, vm and modules never import node, cli, trio, libp2p, plyvel or
hypercorn (nor starlette); consensus never imports vm.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "wattchain"

IO_LAYERS = ("wattchain.node", "wattchain.cli", "wattchain.sim", "trio", "libp2p", "plyvel",
             "hypercorn", "starlette", "httpx")
FORBIDDEN = {
    "consensus": IO_LAYERS + ("wattchain.vm", "wattchain.modules", "wattchain.genesis"),
    "vm": IO_LAYERS + ("wattchain.modules", "wattchain.genesis", "wattchain.consensus"),
    "modules": IO_LAYERS + ("wattchain.genesis", "wattchain.consensus"),
    "genesis": IO_LAYERS,
    "node": ("wattchain.cli", "wattchain.sim"),
    "client": ("wattchain.node", "wattchain.cli", "wattchain.sim", "wattchain.consensus",
               "trio", "libp2p", "plyvel", "hypercorn", "starlette"),
    "sim": ("wattchain.cli",),
}
PRIMITIVES = ("codec.py", "crypto.py", "hashing.py", "types.py", "errors.py")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def violations(files: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in files:
        for name in imported_modules(path):
            if any(name == bad or name.startswith(bad + ".") for bad in forbidden):
                found.append(f"{path.name} imports {name}")
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_lower_layers(layer: str) -> None:
    files = sorted((PACKAGE / layer).rglob("*.py"))
    assert files, f"layer {layer} has no files"
    assert violations(files, FORBIDDEN[layer]) == []


def test_only_the_demo_command_imports_the_sim() -> None:
    files = [path for path in sorted((PACKAGE / "cli").rglob("*.py"))
             if path.name != "demo_cmd.py"]
    assert violations(files, ("wattchain.sim",)) == []


def test_primitives_import_no_higher_layer() -> None:
    files = [PACKAGE / name for name in PRIMITIVES]
    higher = ("wattchain.vm", "wattchain.modules", "wattchain.consensus", "wattchain.genesis",
              *IO_LAYERS)
    assert violations(files, higher) == []


def test_checker_flags_a_bad_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import trio\nfrom wattchain.node.store import BlockStore\n")
    assert sorted(violations([bad], FORBIDDEN["vm"])) == [
        "bad.py imports trio", "bad.py imports wattchain.node.store"]
