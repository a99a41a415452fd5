"""Process settings, read once from the environment in `main` and passed down explicitly.

Library classes never read `os.environ`; they take the values they need from a `Settings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from conveyor.clients.config import ClientConfig
from conveyor.lanes.model import Lanes
from conveyor.project import Project, ProjectError
from conveyor.tracing.settings import TracingSettings

DEFAULT_BOOTSTRAP = "127.0.0.1:9092"


def _home_dir(env: Mapping[str, str], xdg: str, fallback: str) -> Path:
    base = env.get(xdg) or str(Path(env.get("HOME", "~")).expanduser() / fallback)
    return Path(base) / "conveyor"


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
    max_delay: timedelta = timedelta(days=30)  # the longest `publish(..., delay=...)` allowed
    project: Project | None = None  # the contracts: schemas, topology, event models

    @classmethod
    def from_env(cls, env: Mapping[str, str], cwd: Path | None = None) -> Settings:
        """`KAFKA_BOOTSTRAP_SERVERS`, the Kafka client settings (`conveyor.clients.config`;
        `ClientConfigError` names a bad one), `CONVEYOR_CACHE_DIR`, `CONVEYOR_STATE_DIR`,
        `JAVA_HOME`, whether to trace (`OTEL_*`, see `conveyor.tracing.settings`),
        `CONVEYOR_MAX_DELAY` (seconds, 30 days by default), and the project found from `cwd`
        (default: the working directory) up, with its `CONVEYOR_SCHEMAS`, `CONVEYOR_TOPOLOGY`
        and `CONVEYOR_MODELS` overrides."""
        return cls(
            project=Project.discover(cwd or Path.cwd(), env),
            bootstrap_servers=env.get("KAFKA_BOOTSTRAP_SERVERS") or DEFAULT_BOOTSTRAP,
            client=ClientConfig.from_env(env),
            cache_dir=Path(
                env.get("CONVEYOR_CACHE_DIR") or _home_dir(env, "XDG_CACHE_HOME", ".cache")
            ),
            state_dir=Path(
                env.get("CONVEYOR_STATE_DIR") or _home_dir(env, "XDG_STATE_HOME", ".local/state")
            ),
            java_home=env.get("JAVA_HOME") or None,
            tracing=TracingSettings.from_env(env),
            max_delay=timedelta(seconds=float(env.get("CONVEYOR_MAX_DELAY") or 30 * 86400)),
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
