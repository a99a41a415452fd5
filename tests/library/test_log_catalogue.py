"""Log event names come from one catalogue per package: read from the source, every log call
names its event as `logs.NAME` (never inline), and every name in the catalogue is logged."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.project import REPO

LEVELS = frozenset(
    {"debug", "info", "msg", "warning", "warn", "error", "exception", "critical", "fatal", "log"}
)


@dataclass(frozen=True)
class Package:
    root: Path
    parent: str  # the catalogue is imported as `from <parent> import logs`

    @property
    def catalogue(self) -> Path:
        return self.root / "logs.py"

    def modules(self) -> Iterator[tuple[Path, ast.Module]]:
        for path in sorted(self.root.rglob("*.py")):
            if path != self.catalogue:
                yield path, ast.parse(path.read_text(), str(path))


PACKAGES = [
    Package(REPO / "services" / "conveyor", "conveyor"),
    Package(REPO / "services" / "gateway", "gateway"),
]


def names_in(catalogue: Path) -> dict[str, str]:
    """The catalogue's names and their strings: its module-level upper-case str constants."""
    names = {}
    for node in ast.parse(catalogue.read_text()).body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            value = node.value
            for target in targets:
                if isinstance(target, ast.Name) and target.id.isupper():
                    assert isinstance(value, ast.Constant)
                    assert isinstance(value.value, str)
                    names[target.id] = value.value
    return names


def _level_of(func: ast.expr) -> str | None:
    """The level method `func` calls (`log.info`, `self._log.warning`,
    `structlog.get_logger(...).error` ...: something whose expression mentions a logger, not
    `message.error()`); None when it is no logger call."""
    if isinstance(func, ast.IfExp):  # (log.warning if failed else log.info)(...)
        body, orelse = _level_of(func.body), _level_of(func.orelse)
        return body if body is not None and orelse is not None else None
    if (
        isinstance(func, ast.Attribute)
        and func.attr in LEVELS
        and "log" in ast.unparse(func.value).lower()
    ):
        return func.attr
    return None


def log_calls(tree: ast.Module) -> Iterator[tuple[ast.Call, ast.expr | None]]:
    """Each logger call and the expression naming its event (None when it names none)."""
    for node in ast.walk(tree):
        level = _level_of(node.func) if isinstance(node, ast.Call) else None
        if isinstance(node, ast.Call) and level is not None:
            positional = node.args[1:] if level == "log" else node.args
            keyword = [k.value for k in node.keywords if k.arg == "event"]
            named = positional[:1] or keyword
            yield node, named[0] if named else None


def catalogue_names_of(event: ast.expr | None) -> list[str] | None:
    """The names `event` takes from the catalogue (`logs.NAME`, or a choice of two); None when
    it is anything else (a literal, an f-string, a variable)."""
    if isinstance(event, ast.IfExp):
        body, orelse = catalogue_names_of(event.body), catalogue_names_of(event.orelse)
        return None if body is None or orelse is None else body + orelse
    if (
        isinstance(event, ast.Attribute)
        and isinstance(event.value, ast.Name)
        and event.value.id == "logs"
    ):
        return [event.attr]
    return None


def imports_catalogue(tree: ast.Module, parent: str) -> bool:
    return any(
        isinstance(node, ast.ImportFrom)
        and node.module == parent
        and any(alias.name == "logs" and alias.asname is None for alias in node.names)
        for node in tree.body
    )


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.parent)
def test_every_log_call_names_its_event_from_the_catalogue(package: Package) -> None:
    """No event name written inline: each log call's event is `logs.NAME` of the package's
    catalogue, imported as `from <package> import logs`."""
    catalogue = names_in(package.catalogue)
    wrong, calls = [], 0
    for path, tree in package.modules():
        where = path.relative_to(REPO)
        found = list(log_calls(tree))
        calls += len(found)
        if found and not imports_catalogue(tree, package.parent):
            wrong.append(f"{where}: logs without `from {package.parent} import logs`")
        for call, event in found:
            names = catalogue_names_of(event)
            if names is None or not set(names) <= catalogue.keys():
                wrong.append(f"{where}:{call.lineno}: {ast.unparse(call)[:90]}")
    assert calls > 5, "found hardly any log calls: the search is broken"
    assert wrong == []


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.parent)
def test_every_name_in_the_catalogue_is_logged_somewhere(package: Package) -> None:
    """A name nothing logs misleads whoever builds a dashboard on it; no two names share a
    string."""
    catalogue = names_in(package.catalogue)
    used: set[str] = set()
    for _, tree in package.modules():
        for _, event in log_calls(tree):
            used.update(catalogue_names_of(event) or ())
    assert sorted(catalogue.keys() - used) == []
    assert len(set(catalogue.values())) == len(catalogue)


def test_the_search_sees_inline_names_and_catalogue_names() -> None:
    """The rules themselves: what counts as a log call and as a name from the catalogue."""
    tree = ast.parse(
        "log.info('inline')\n"
        "self._log.warning(logs.A, x=1)\n"
        "(log.warning if bad else log.info)(logs.B if bad else logs.C)\n"
        "_log.log(level, logs.D)\n"
        "structlog.get_logger('x').error(f'{name}')\n"
        "message.error()\n"
    )
    found = [catalogue_names_of(event) for _, event in log_calls(tree)]
    assert found == [None, ["A"], ["B", "C"], ["D"], None]
