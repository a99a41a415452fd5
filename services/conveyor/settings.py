"""Process settings, read once from the environment in `main` and passed down explicitly.

Library classes never read `os.environ`; they take the values they need from a `Settings`.
`ProcessVariables` are this module's variables (`conveyor settings` lists every group).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Final

from conveyor.clients.config import ClientConfig
from conveyor.environment import EnvModel, variable
from conveyor.lanes.model import Lanes
from conveyor.project import Project, ProjectError
from conveyor.tracing.settings import TracingSettings

DEFAULT_BOOTSTRAP: Final = "127.0.0.1:9092"
_MAX_DELAY: Final = timedelta(days=30)


class ProcessVariables(EnvModel):
    """Where a process finds its broker, its files and Java."""

    bootstrap_servers: str = variable(
        "KAFKA_BOOTSTRAP_SERVERS",
        DEFAULT_BOOTSTRAP,
        description="The Kafka brokers every client connects to.",
        example="kafka-0:9092,kafka-1:9092",
    )
    cache_dir: Path | None = variable(
        "CONVEYOR_CACHE_DIR",
        None,
        shown="$XDG_CACHE_HOME/conveyor",
        description="Downloads kept between runs (the local broker's distribution).",
        example="/tmp/conveyor-cache",
    )
    state_dir: Path | None = variable(
        "CONVEYOR_STATE_DIR",
        None,
        shown="$XDG_STATE_HOME/conveyor",
        description="The local broker's nodes and the reference services' databases.",
        example="/tmp/conveyor-state",
    )
    xdg_cache_home: Path | None = variable(
        "XDG_CACHE_HOME",
        None,
        shown="~/.cache",
        sets="cache_dir",
        description="The default cache directory's parent.",
        example="/tmp/xdg-cache",
    )
    xdg_state_home: Path | None = variable(
        "XDG_STATE_HOME",
        None,
        shown="~/.local/state",
        sets="state_dir",
        description="The default state directory's parent.",
        example="/tmp/xdg-state",
    )
    java_home: str | None = variable(
        "JAVA_HOME",
        None,
        description="The Java the local broker runs on (else `java` on the PATH).",
        example="/opt/java",
    )
    max_delay: timedelta = variable(
        "CONVEYOR_MAX_DELAY",
        _MAX_DELAY,
        unit="s",
        description="The longest `publish(..., delay=...)` allowed, in seconds.",
        example="3600",
    )

    def directory(self, configured: Path | None, xdg: Path | None, fallback: str) -> Path:
        return configured or (xdg or Path.home() / fallback) / "conveyor"


@dataclass(frozen=True)
class Settings:
    """What every conveyor process needs to know about its surroundings."""

    cache_dir: Path
    state_dir: Path
    bootstrap_servers: str = DEFAULT_BOOTSTRAP
    # How every Kafka client connects (`KAFKA_SECURITY_PROTOCOL`, `KAFKA_SASL_*`, `KAFKA_SSL_*`,
    # `KAFKA_CLIENT_CONFIG`); its secrets never show in a repr.
    client: ClientConfig = field(default_factory=ClientConfig)
    java_home: str | None = None
    tracing: TracingSettings = field(default_factory=TracingSettings)  # the `OTEL_*` variables
    max_delay: timedelta = _MAX_DELAY  # the longest `publish(..., delay=...)` allowed
    project: Project | None = None  # the contracts: schemas, topology, event models

    @classmethod
    def from_env(cls, env: Mapping[str, str], cwd: Path | None = None) -> Settings:
        """The process's variables, the Kafka client settings (`ClientConfigError` names a bad
        one), whether to trace, and the project found from `cwd` (default: the working
        directory) up, with its `CONVEYOR_SCHEMAS`, `CONVEYOR_TOPOLOGY` and `CONVEYOR_MODELS`
        overrides."""
        own = ProcessVariables.from_env(env)
        return cls(
            project=Project.discover(cwd or Path.cwd(), env),
            bootstrap_servers=own.bootstrap_servers,
            client=ClientConfig.from_env(env),
            cache_dir=own.directory(own.cache_dir, own.xdg_cache_home, ".cache"),
            state_dir=own.directory(own.state_dir, own.xdg_state_home, ".local/state"),
            java_home=own.java_home,
            tracing=TracingSettings.from_env(env),
            max_delay=own.max_delay,
        )

    def contracts(self) -> Project:
        """The project these settings were read for."""
        if self.project is None:
            raise ProjectError(
                "these settings name no project: build them with Settings.from_env(env, cwd)"
            )
        return self.project

    def lanes(self) -> dict[str, Lanes]:
        """The lanes the project's topology declares, by topic; none without a project or
        without a topology file."""
        if self.project is None or not self.project.config.topology.exists():
            return {}
        return self.project.topology().lanes

    @property
    def kafka_home(self) -> Path:
        """Where `conveyor kafka up` keeps its nodes' configs, data, logs and pids."""
        return self.state_dir / "kafka"
