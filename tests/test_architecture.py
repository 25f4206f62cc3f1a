"""The package's shape: the import-linter contracts of pyproject.toml hold, no module imports
another in a cycle, no private name crosses a module, and `__init__.py` holds no logic."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp

from crm_pipeline.paths import REPO_ROOT

PACKAGES = ("crm_pipeline", "dagster_defs")


def test_the_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], capture_output=True, text=True,
                            cwd=REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_every_part_of_the_library_has_its_layer():
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contract = next(c for c in config["tool"]["importlinter"]["contracts"]
                    if c["id"] == "library-layers")
    layered = {name.strip() for layer in contract["layers"] for name in layer.split("|")}
    root = REPO_ROOT / "crm_pipeline"
    parts = {p.stem for p in root.glob("*.py") if p.name != "__init__.py"}
    parts |= {p.name for p in root.iterdir() if (p / "__init__.py").exists()}
    assert parts == layered


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (imports in functions and under
    TYPE_CHECKING count: a lazy import that dodges a cycle is still a cycle)."""
    modules = sorted(graph.modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & graph.modules) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:  # Tarjan's algorithm, iteratively
        work = [(start, iter(edges[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))

    for module in modules:
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_another_in_a_cycle():
    assert cycles(grimp.build_graph(*PACKAGES, cache_dir=None)) == []


def test_the_cycle_finder_finds_one():
    graph = grimp.ImportGraph()
    for a, b in (("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d")):
        graph.add_import(importer=a, imported=b)
    assert cycles(graph) == [["p.a", "p.b", "p.c"]]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    path = REPO_ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def private_imports(path: Path, source: str) -> list[str]:
    """`from x import _y` and `x._y` where x is another module of the project."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    modules: set[str] = set()  # local names bound to project modules
    found = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = parts[: len(parts) - node.level + 1] if node.level else []
            source_module = ".".join([*base, *([node.module] if node.module else [])])
            if source_module.split(".")[0] not in PACKAGES:
                continue
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{node.lineno}: from {source_module} import {alias.name}")
                if is_module(f"{source_module}.{alias.name}"):
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            modules |= {a.asname or a.name.split(".")[0] for a in node.names
                        if a.name.split(".")[0] in PACKAGES}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                and not node.attr.startswith("__")):
            value = node.value
            while isinstance(value, ast.Attribute):
                value = value.value
            if isinstance(value, ast.Name) and value.id in modules:
                found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_private_name_is_imported_across_modules():
    offenders = [
        f"{path.relative_to(REPO_ROOT)}:{hit}"
        for package in PACKAGES
        for path in sorted((REPO_ROOT / package).rglob("*.py"))
        for hit in private_imports(path, path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_private_name_scan_sees_both_forms():
    path = REPO_ROOT / "crm_pipeline" / "value" / "forecast.py"
    source = ("from crm_pipeline.value.ltv.bgnbd import _stats\n"
              "from .ltv import bgnbd\n"
              "x = bgnbd._start\n")
    assert private_imports(path, source) == [
        "1: from crm_pipeline.value.ltv.bgnbd import _stats", "3: bgnbd._start"]


# dagster_defs/__init__.py sets OPENBLAS_NUM_THREADS before numpy loads, which only the first
# module of the package a Dagster process imports can do.
INIT_WITH_SETTINGS = {REPO_ROOT / "dagster_defs" / "__init__.py"}


def test_init_files_hold_a_docstring_at_most():
    offenders = []
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("__init__.py")):
            body = ast.parse(path.read_text(encoding="utf-8")).body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                body = body[1:]
            if body and path not in INIT_WITH_SETTINGS:
                offenders.append(str(path.relative_to(REPO_ROOT)))
    assert offenders == []
