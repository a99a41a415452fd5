"""Every settings group of the library, in the order `conveyor settings` and the README list
them, each with how a process builds its settings from the environment."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pydantic import BaseModel

from conveyor.clients.config import ClientConfig
from conveyor.console.settings import ConsoleVariables
from conveyor.delay.scheduler import SchedulerSettings, SchedulerVariables
from conveyor.environment import table
from conveyor.policies.settings import PolicySettings, PolicyVariables
from conveyor.project.config import ProjectConfig, ProjectVariables
from conveyor.runtime.settings import ServiceSettings
from conveyor.settings import ProcessVariables, Settings
from conveyor.tracing.settings import TracingSettings, TracingVariables


@dataclass(frozen=True)
class Group:
    """A settings group: its title, the model naming its variables, and `build`, what a
    process makes of an environment (each variable's `sets` names an attribute of it)."""

    title: str
    model: type[BaseModel]
    build: Callable[[Mapping[str, str]], object]


def _project(env: Mapping[str, str]) -> ProjectConfig:
    from pathlib import Path

    return ProjectConfig.discover(Path.cwd(), env)


LIBRARY: tuple[Group, ...] = (
    Group("Every process", ProcessVariables, Settings.from_env),
    Group("Kafka clients (every client of a process)", ClientConfig, ClientConfig.from_env),
    Group("Consumer services", ServiceSettings, ServiceSettings.from_env),
    Group("Failure policies (service-wide defaults)", PolicyVariables, PolicySettings.from_env),
    Group(
        "Delay scheduler (`conveyor run scheduler`)",
        SchedulerVariables,
        lambda env: SchedulerSettings.from_env("", env),
    ),
    Group("Project contracts", ProjectVariables, _project),
    Group(
        "Tracing (the rest of `OTEL_*` is the SDK's)", TracingVariables, TracingSettings.from_env
    ),
    Group("Web console", ConsoleVariables, ConsoleVariables.from_env),
)


def library_table() -> str:
    """The markdown table of every variable the library reads."""
    return table((group.title, group.model) for group in LIBRARY)
