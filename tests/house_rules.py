"""What tests/test_house.py checks, as functions over the source tree (ast, no imports of it)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "afterclick"

#: The layers of HOUSE.md §5 as they map onto today's top-level modules and packages.
GROUPS = {
    "core": ("core", "results", "schemas"),
    "store": ("store", "ingest"),
    "models": ("stats", "clv", "attribution", "signals", "text"),
    "demo": ("demo",),
    "engine": ("engine", "kpis", "workspace"),
    "analysis": ("analysis", "goals", "monitor", "review"),
    "views": ("views", "plots"),
    "surfaces": ("report", "cli", "export", "backends", "__main__", "__init__"),
}
#: Which layers each layer may import (besides itself): no arrow up, so no cycle between layers.
ALLOWED = {
    "core": set(),
    "store": {"core"},
    "models": {"core"},
    "demo": {"core"},
    "engine": {"core", "store", "models"},
    "analysis": {"core", "store", "models", "engine"},
    "views": {"core", "models", "engine", "analysis"},
    "surfaces": set(GROUPS),
}


def modules() -> Iterator[tuple[str, Path]]:
    """(dotted name, path) of every module under src/afterclick."""
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def top_level(module: str) -> str:
    """The top-level package or module of a dotted name (``afterclick.cli_goals`` counts as ``cli``)."""
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    return "cli" if top.startswith("cli_") else top


def group_of(module: str) -> str:
    """The layer of a dotted module name."""
    top = top_level(module)
    for group, members in GROUPS.items():
        if top in members:
            return group
    raise KeyError(f"{module}: in no layer of tests/house_rules.GROUPS; add its top-level name there")


def imports(module: str, path: Path) -> Iterator[tuple[int, str]]:
    """(line, imported afterclick module) for every import in the file, relative ones resolved."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "afterclick":
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target.split(".")[0] != "afterclick":
                continue
            if target == "afterclick":  # from afterclick import cli, __version__
                for alias in node.names:
                    yield node.lineno, f"afterclick.{alias.name}"
            else:
                yield node.lineno, target


@cache
def layer_violations() -> dict[str, list[str]]:
    """Layer → the imports of its modules that point at a layer it may not import."""
    out: dict[str, list[str]] = {g: [] for g in GROUPS}
    for module, path in modules():
        group = group_of(module)
        for line, target in imports(module, path):
            try:
                to = group_of(target)
            except KeyError:  # afterclick.__version__ and the like: the package's own top level
                to = "surfaces"
            if to != group and to not in ALLOWED[group] and target != "afterclick.__version__":
                out[group].append(f"{path.relative_to(SRC)}:{line} imports {target} ({to})")
    return out


def third_party(path: Path) -> set[str]:
    """The top-level names of every package a file imports (also inside functions)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return names


@cache
def long_functions(limit: int) -> list[str]:
    out = []
    for _, path in modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > limit:
                    out.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name} ({length} lines)")
    return out


@cache
def long_files(limit: int) -> list[str]:
    out = []
    for _, path in modules():
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > limit:
            out.append(f"{path.relative_to(SRC)} ({n} lines)")
    return out


def string_constants(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value
