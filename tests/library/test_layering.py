"""The library's layers, read from its source: the runtime never depends on the operator tooling
(`conveyor.ops`), not even through another package, and replay's home (`conveyor.replay`), which
both use, depends on neither."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import conveyor

ROOT = Path(conveyor.__file__).parent


def _module_of(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _source_of(module: str) -> Path | None:
    base = ROOT.parent.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _with_parents(module: str) -> set[str]:
    """`module` and the packages that importing it runs first."""
    parts = module.split(".")
    return {".".join(parts[:n]) for n in range(1, len(parts) + 1)}


@cache
def _direct_imports(module: str) -> frozenset[str]:
    """The conveyor modules `module`'s source imports (at any place in it, typing-only too)."""
    path = _source_of(module)
    if path is None:
        return frozenset()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            # `from a import b`: b is a module of a or a name in it; both count
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        for name in names:
            if name.split(".")[0] == "conveyor" and _source_of(name) is not None:
                found |= {m for m in _with_parents(name) if _source_of(m) is not None}
    return frozenset(found - {module})


def _reached(start: str) -> set[str]:
    """Every conveyor module importing `start` loads, `start` excluded."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for imported in _direct_imports(todo.pop()):
            if imported not in seen:
                seen.add(imported)
                todo.append(imported)
    return seen - {start}


def _modules_of(package: str) -> list[str]:
    folder = ROOT.parent.joinpath(*package.split("."))
    return sorted(_module_of(path) for path in folder.rglob("*.py"))


def _within(modules: set[str], package: str) -> list[str]:
    return sorted(m for m in modules if m == package or m.startswith(f"{package}."))


def test_the_import_analysis_sees_a_known_dependency() -> None:
    """The analysis is not blind: the runner loads the replay windows and the clients."""
    reached = _reached("conveyor.runtime.runner")
    assert "conveyor.replay.loading" in reached
    assert "conveyor.clients.reader" in reached
    assert "conveyor.ops.broker" in _reached("conveyor.ops.replay")


def test_no_runtime_module_imports_the_operations_commands() -> None:
    """Directly or through any other module: the runtime runs without `conveyor.ops`."""
    modules = _modules_of("conveyor.runtime")
    assert "conveyor.runtime.runner" in modules
    offending = {
        module: _within(_reached(module), "conveyor.ops")
        for module in modules
        if _within(_reached(module), "conveyor.ops")
    }
    assert offending == {}


def test_replay_depends_on_neither_the_runtime_nor_the_operations() -> None:
    modules = _modules_of("conveyor.replay")
    assert modules
    for module in modules:
        reached = _reached(module)
        assert _within(reached, "conveyor.ops") == [], module
        assert _within(reached, "conveyor.runtime") == [], module
