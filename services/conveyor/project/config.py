"""Where a project keeps its contracts: found once by walking up from the working directory.

A project declares them in `conveyor.toml` (top-level keys) or in `[tool.conveyor]` of its
`pyproject.toml`; the nearest directory holding either wins, and paths are relative to that file:

    [tool.conveyor]
    schemas = "schemas"                 # the *.avsc files (any depth) and compatibility.yaml
    topology = "schemas/topics.yaml"    # topics and services
    models = "shop/events.py"           # the models `conveyor schemas generate` writes, or
                                        # modules of models: ["shop.events", "shop.legacy"]

Models bind to schemas by Avro full name. An entry ending in `.py` is a file of the project
(`shop/events.py` is the module `shop.events`, `src/` left out), and the first such file is
where `schemas generate` writes and what `schemas check` checks is fresh.

`ProjectVariables` (`CONVEYOR_SCHEMAS`, `CONVEYOR_TOPOLOGY`, `CONVEYOR_MODELS`) override the
file, paths relative to the working directory. Without any file, the working directory is the
project.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Final

from pydantic import field_validator

from conveyor.environment import EnvModel, variable
from conveyor.errors import ConveyorError
from conveyor.project.errors import ProjectConfigError

CONFIG_FILE: Final = "conveyor.toml"
PYPROJECT: Final = "pyproject.toml"
DEFAULT_SCHEMAS: Final = "schemas"
DEFAULT_TOPOLOGY: Final = "schemas/topics.yaml"
_KEYS: Final = frozenset({"schemas", "topology", "models"})


class ProjectVariables(EnvModel):
    """Where the contracts are, instead of what the project file says."""

    settings_error: ClassVar[type[ConveyorError]] = ProjectConfigError

    schemas: Path | None = variable(
        "CONVEYOR_SCHEMAS",
        None,
        shown=DEFAULT_SCHEMAS,
        description="The schema directory (`*.avsc`, any depth), relative to the working "
        "directory; overrides the project file.",
        example="contracts",
    )
    topology: Path | None = variable(
        "CONVEYOR_TOPOLOGY",
        None,
        shown=DEFAULT_TOPOLOGY,
        description="The topology file, relative to the working directory; overrides the "
        "project file.",
        example="contracts/topics.yaml",
    )
    models: tuple[str, ...] | None = variable(
        "CONVEYOR_MODELS",
        None,
        keep_empty=True,
        description="Comma-separated modules of event models (or a `.py` file of the project); "
        "overrides the project file, empty: none.",
        example="acme.events",
    )

    @field_validator("models", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        return tuple(value.split(",")) if isinstance(value, str) else value


@dataclass(frozen=True)
class ProjectConfig:
    """A project's contracts: where its schemas and topology are, which modules hold its models.

    `source` is the file they were read from (None when none was found), named by every error;
    `generated` the models module `conveyor schemas generate` writes, when one is named.
    """

    root: Path
    schemas: Path
    topology: Path
    models: tuple[str, ...] = ()
    source: Path | None = None
    generated: Path | None = None

    @classmethod
    def at(cls, root: Path, **values: Any) -> ProjectConfig:
        """The project in `root` with `values` (relative paths from `root`), no file read."""
        return _from_table(root, values, source=None)

    @classmethod
    def discover(cls, cwd: Path, env: Mapping[str, str]) -> ProjectConfig:
        """The nearest project from `cwd` up, with `CONVEYOR_*` overrides from `env`."""
        found = find_config_file(cwd)
        if found is None:
            config = _from_table(cwd, {}, source=None)
        else:
            config = _from_table(found.parent, read_table(found), source=found)
        return config.overridden(cwd, env)

    def overridden(self, cwd: Path, env: Mapping[str, str]) -> ProjectConfig:
        """This project with what `CONVEYOR_SCHEMAS`, `_TOPOLOGY` and `_MODELS` say instead."""
        given = ProjectVariables.from_env(env)
        models, generated = self.models, self.generated
        if given.models is not None:
            models, generated = _models(given.models, cwd, "CONVEYOR_MODELS")
        return ProjectConfig(
            root=self.root,
            schemas=cwd / given.schemas if given.schemas else self.schemas,
            topology=cwd / given.topology if given.topology else self.topology,
            models=models,
            source=self.source,
            generated=generated,
        )

    @property
    def origin(self) -> str:
        """How errors name where a setting came from."""
        return str(self.source) if self.source is not None else f"defaults in {self.root}"


def find_config_file(start: Path) -> Path | None:
    """`conveyor.toml`, or a `pyproject.toml` with `[tool.conveyor]`, in `start` or the nearest
    directory above it that has one."""
    for directory in (start, *start.parents):
        candidate = directory / CONFIG_FILE
        if candidate.is_file():
            return candidate
        pyproject = directory / PYPROJECT
        if pyproject.is_file() and "conveyor" in _parse(pyproject).get("tool", {}):
            return pyproject
    return None


def read_table(path: Path) -> Mapping[str, Any]:
    """The settings `path` holds: the whole `conveyor.toml`, or `[tool.conveyor]`."""
    document = _parse(path)
    table = document if path.name == CONFIG_FILE else document.get("tool", {}).get("conveyor")
    if not isinstance(table, dict):
        raise ProjectConfigError(f"{path}: [tool.conveyor] must be a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ProjectConfigError(
            f"{path}: unknown conveyor setting(s) {unknown}; known: {sorted(_KEYS)}"
        )
    return table


def _parse(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ProjectConfigError(f"{path}: not readable TOML: {exc}") from exc


def _from_table(root: Path, table: Mapping[str, Any], source: Path | None) -> ProjectConfig:
    where = str(source) if source is not None else str(root)
    schemas = _path(table.get("schemas", DEFAULT_SCHEMAS), "schemas", where)
    topology = _path(table.get("topology", DEFAULT_TOPOLOGY), "topology", where)
    entries = table.get("models", ())
    if isinstance(entries, str):
        entries = [entries]
    if not isinstance(entries, list | tuple):
        raise ProjectConfigError(f"{where}: models must be a module (or .py file) or a list")
    models, generated = _models(entries, root, where)
    return ProjectConfig(
        root=root,
        schemas=root / schemas,
        topology=root / topology,
        models=models,
        source=source,
        generated=generated,
    )


def _path(value: object, key: str, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ProjectConfigError(f"{where}: {key} must be a path (a non-empty string)")
    return value


def _models(entries: Any, base: Path, where: str) -> tuple[tuple[str, ...], Path | None]:
    """The module names `entries` give (a `.py` path relative to `base` as its module), and the
    first `.py` file among them."""
    names: list[str] = []
    generated: Path | None = None
    for entry in (str(e).strip() for e in entries if str(e).strip()):
        name = entry
        if entry.endswith(".py"):
            parts = Path(entry).with_suffix("").parts
            name = ".".join(parts[1:] if parts[:1] == ("src",) else parts)
            generated = generated or base / entry
        if not name or not all(part.isidentifier() for part in name.split(".")):
            raise ProjectConfigError(
                f"{where}: models must be importable modules or .py files, not {entry!r}"
            )
        names.append(name)
    return tuple(names), generated
