"""The settings every command shares, read once per `conveyor` run, and the project in them.

They are read when a command first asks for them, not when the command line is parsed, so
`conveyor --help` and `conveyor <command> --help` load neither pydantic nor the Kafka client:
this module and the command modules import those where a command runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from conveyor.ops.broker import Broker
    from conveyor.project import Project
    from conveyor.settings import Settings
    from conveyor.topology.model import Topology


class Invocation:
    """One run of the `conveyor` command (the root context's object). Its settings are read
    from the environment on first use; from then on until the command (the context that asked)
    returns, every Kafka client it creates connects as they say. `on_start`, when given, runs
    first: the command line sets its logs up there."""

    def __init__(self, on_start: Callable[[], None] | None = None) -> None:
        self._on_start = on_start
        self._settings: Settings | None = None

    def settings(self, ctx: typer.Context) -> Settings:
        if self._settings is None:
            from conveyor.clients.connection import using
            from conveyor.settings import Settings

            if self._on_start is not None:
                self._on_start()
            settings = Settings.from_env(os.environ, Path.cwd())
            ctx.with_resource(using(settings.client))
            self._settings = settings
        return self._settings


def settings_of(ctx: typer.Context) -> Settings:
    invocation = ctx.find_root().obj
    if not isinstance(invocation, Invocation):
        raise RuntimeError("the conveyor CLI was started without its settings")
    return invocation.settings(ctx)


def project_of(ctx: typer.Context) -> Project:
    """The project found from the working directory (`[tool.conveyor]` or `conveyor.toml`)."""
    return settings_of(ctx).contracts()


def broker_of(ctx: typer.Context, timeout: float) -> Broker:
    """The cluster the settings name, checked to answer within `timeout` seconds."""
    from conveyor.ops.session import open_broker

    return open_broker(settings_of(ctx), timeout)


def topology_of(ctx: typer.Context, profile: str | None, file: Path | None) -> Topology:
    """The project's topology, or the one in `file` checked against the project's events."""
    from conveyor.topology.loader import load

    project = project_of(ctx)
    if file is None:
        return project.topology(profile)
    return load(file, profile, events=project.catalogue.bindings())
