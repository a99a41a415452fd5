"""The settings object every command shares, read once in `main`, and the project in it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from conveyor.project import Project
from conveyor.settings import Settings

if TYPE_CHECKING:  # the topology's models cost a tenth of a second: loaded when used
    from conveyor.topology.model import Topology


def settings_of(ctx: typer.Context) -> Settings:
    settings = ctx.find_root().obj
    if not isinstance(settings, Settings):
        raise RuntimeError("the conveyor CLI was started without its settings")
    return settings


def project_of(ctx: typer.Context) -> Project:
    """The project found from the working directory (`[tool.conveyor]` or `conveyor.toml`)."""
    return settings_of(ctx).contracts()


def topology_of(ctx: typer.Context, profile: str | None, file: Path | None) -> Topology:
    """The project's topology, or the one in `file` checked against the project's events."""
    from conveyor.topology.loader import load

    project = project_of(ctx)
    if file is None:
        return project.topology(profile)
    return load(file, profile, events=project.catalogue.bindings())
