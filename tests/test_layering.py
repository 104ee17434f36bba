"""The layering rule of docs/architecture.md, enforced on the import graph.

primitives <- consensus, vm, modules <- genesis <- node <- cli, sim;
client (the Python SDK) sits on primitives and modules, under cli and sim.
consensus, vm and modules never import node, cli, trio, libp2p, plyvel or
hypercorn (nor starlette); consensus never imports vm.

And no import cycle anywhere in wattchain/: every import counts, including
those inside functions and under TYPE_CHECKING (a cycle hidden behind a lazy
import is still a cycle of design).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
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


# -- import cycles -----------------------------------------------------------------


def module_files(package: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module under ``package`` (a package
    is named by its ``__init__.py``)."""
    modules = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _imported_names(name: str, path: Path) -> Iterator[str]:
    """Every dotted name ``name``'s file imports, anywhere in the file; for
    ``from x import y`` both x.y (in case y is a module) and x."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package this module is in
                anchor = name.split(".")
                anchor = anchor[:len(anchor) - node.level + is_package]
                base = ".".join(anchor + ([base] if base else []))
            yield from (f"{base}.{alias.name}" for alias in node.names)
            yield base


def import_graph(package: Path) -> dict[str, set[str]]:
    """Module -> the modules of ``package`` it imports. An import resolves to the
    longest known module prefix; the edge from a module to a package that
    contains it is left out (Python imports a package before its modules)."""
    modules = module_files(package)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for imported in _imported_names(name, path):
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name and not name.startswith(imported + "."):
                targets.add(imported)
        graph[name] = targets
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    lowest: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(module: str) -> None:
        index[module] = lowest[module] = len(index)
        stack.append(module)
        for target in graph[module]:
            if target not in index:
                visit(target)
                lowest[module] = min(lowest[module], lowest[target])
            elif target in stack:
                lowest[module] = min(lowest[module], index[target])
        if lowest[module] == index[module]:
            component = stack[stack.index(module):]
            del stack[stack.index(module):]
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(cycles)


def test_no_import_cycles() -> None:
    assert import_cycles(import_graph(PACKAGE)) == []


def test_cycle_checker_sees_lazy_and_type_checking_imports(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    files = {
        "__init__.py": "",
        "a.py": "def later():\n    from pkg import b\n",
        "b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.a\n",
        "c.py": "from . import a\n",  # into the cycle, not part of it
        "sub/__init__.py": "from pkg.sub.d import D\n",  # a package and its own module
        "sub/d.py": "import pkg.sub\nfrom ..c import a\nD = 1\n",
    }
    for name, text in files.items():
        (package / name).write_text(text)
    graph = import_graph(package)
    assert graph["pkg.c"] == {"pkg.a"} and graph["pkg.sub.d"] == {"pkg.c"}
    assert import_cycles(graph) == [["pkg.a", "pkg.b"]]
