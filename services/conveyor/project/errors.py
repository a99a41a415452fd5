"""Errors of a project's configuration and contracts; each names the file at fault."""

from __future__ import annotations

from conveyor.errors import ConveyorError


class ProjectError(ConveyorError):
    """A project's `[tool.conveyor]` settings or its event models cannot be used as declared."""


class ProjectConfigError(ProjectError):
    """`conveyor.toml` or `[tool.conveyor]` in `pyproject.toml` is unreadable or malformed."""


class EventModelError(ProjectError):
    """A models module does not import, or a model is bound to no schema, or twice to one."""
