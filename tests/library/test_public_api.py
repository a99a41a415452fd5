"""The reference pipeline is one user of the library: it imports nothing private of it."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.project import REPO

SERVICES = REPO / "services"


def library_imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) of every import from `conveyor` in `path` (name "" for `import x`)."""
    found: list[tuple[str, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("conveyor"):
            found.extend((node.module or "", alias.name) for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend((a.name, "") for a in node.names if a.name.startswith("conveyor"))
    return found


def test_the_reference_pipeline_imports_no_private_module_or_name_of_the_library() -> None:
    """No module path part and no imported name of the library starts with an underscore."""
    private = [
        f"{path.relative_to(REPO)}: {module} {name}".strip()
        for package in SERVICES.iterdir()
        if package.is_dir() and package.name != "conveyor" and (package / "__init__.py").exists()
        for path in package.rglob("*.py")
        for module, name in library_imports(path)
        if any(part.startswith("_") for part in module.split(".")) or name.startswith("_")
    ]

    assert private == []
    assert library_imports(SERVICES / "payments" / "service.py"), "the scan finds imports"
