"""What a new project is called, checked once, and the files written for it."""

from __future__ import annotations

import keyword
import re
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template
from typing import Final

from conveyor import __version__
from conveyor.codegen import generate_models
from conveyor.errors import ConveyorError

_NAME: Final = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
# Package names that would shadow what the project imports, or its own folders.
_TAKEN: Final = frozenset({"conveyor", "schemas", "tests", "test"}) | sys.stdlib_module_names
EVENT: Final = "GreetingRequested"
TOPIC: Final = "greetings"


class ScaffoldError(ConveyorError):
    """The project cannot be created: a bad name, or a directory that is not empty."""


@dataclass(frozen=True)
class NewProject:
    """A new service repository: its service name (the consumer group and distribution name)
    and its Python package (the name with `-` as `_`)."""

    name: str

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ScaffoldError(
                f"{self.name!r} is not a service name: lowercase letters and digits, words "
                "joined by single dashes, starting with a letter (e.g. order-emails)"
            )
        if keyword.iskeyword(self.package) or self.package in _TAKEN:
            raise ScaffoldError(
                f"{self.name!r} would make the Python package {self.package}, which shadows "
                "a module it needs: pick another name (--name)"
            )

    @property
    def package(self) -> str:
        return self.name.replace("-", "_")

    def files(self) -> dict[str, str]:
        """Template -> path in the project, for every file but the generated models."""
        return {
            "pyproject.toml.tmpl": "pyproject.toml",
            "README.md.tmpl": "README.md",
            "Dockerfile.tmpl": "Dockerfile",
            "gitignore.tmpl": ".gitignore",
            "topics.yaml.tmpl": "schemas/topics.yaml",
            "event.avsc.tmpl": f"schemas/{self.package}/{EVENT}.v1.avsc",
            "init.py.tmpl": f"{self.package}/__init__.py",
            "service.py.tmpl": f"{self.package}/service.py",
            "test_service.py.tmpl": "tests/test_service.py",
        }

    def values(self) -> dict[str, str]:
        return {
            "name": self.name,
            "package": self.package,
            "namespace": self.package,
            "namespace_dir": self.package,
            "event": EVENT,
            "topic": TOPIC,
            "conveyor_version": __version__,
        }


def scaffold(directory: Path, project: NewProject, *, force: bool = False) -> list[Path]:
    """Write `project` into `directory` (made if missing); the files written, in order.

    A non-empty `directory` is refused unless `force`, which overwrites the files the scaffold
    writes and leaves every other file alone.
    """
    if directory.exists() and not directory.is_dir():
        raise ScaffoldError(f"{directory} is a file, not a directory")
    if directory.is_dir() and any(directory.iterdir()) and not force:
        raise ScaffoldError(f"{directory} is not empty: pick a new directory, or pass --force")
    templates = resources.files("conveyor.scaffold") / "templates"
    written = []
    for template, relative in project.files().items():
        text = Template(templates.joinpath(template).read_text(encoding="utf-8"))
        written.append(_write(directory / relative, text.substitute(project.values())))
    schemas = directory / "schemas"
    models = generate_models(schemas, schemas / "topics.yaml")
    written.append(_write(directory / project.package / "events.py", models))
    return written


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
