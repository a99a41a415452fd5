"""How one service process consumes: read once from the environment in `main`, then frozen.

Variables (all optional):

- `CONVEYOR_GROUP_PROTOCOL`: `consumer` (KIP-848, default) or `classic`
  (classic uses the `cooperative-sticky` assignor).
- `CONVEYOR_GROUP_INSTANCE_ID`: static membership id, e.g. the pod name.
- `CONVEYOR_MAX_IN_FLIGHT` (256), `CONVEYOR_SYNC_WORKERS` (32),
  `CONVEYOR_MAX_PENDING_PER_PARTITION` (1000, events fetched and not yet finished),
  `CONVEYOR_MAX_UNCOMMITTED_PER_PARTITION` (10000, events fetched past the commit position,
  finished ones behind an unfinished one included),
  `CONVEYOR_COMMIT_INTERVAL_MS` (1000), `CONVEYOR_SHUTDOWN_DEADLINE_S` (20),
  `CONVEYOR_MAX_POLL_INTERVAL_MS` (300000), `CONVEYOR_SESSION_TIMEOUT_MS` (45000, classic only),
  `CONVEYOR_AUTO_OFFSET_RESET` (`earliest`), `CONVEYOR_KAFKA_START_TIMEOUT_S` (30: how long a
  starting process waits for a first answer from a broker before it stops, reporting a wrong
  address; outages after that are waited out), `CONVEYOR_HTTP_PORT` (9400; 0 picks a free one;
  `off` disables it), `CONVEYOR_LOG_LEVEL` (`INFO`), `CONVEYOR_RETRY_DELAY_S` (1.0),
  `CONVEYOR_GC_YOUNG_THRESHOLD` (10000; 0 leaves Python's garbage collector as it is, see
  `conveyor.runtime.gc_tuning`).
- `CONVEYOR_TOPIC_MAP`: `declared=actual,...` to run a service against renamed topics.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from conveyor.runtime.errors import RuntimeConfigError


class GroupProtocol(enum.Enum):
    CONSUMER = "consumer"  # KIP-848: the broker assigns, rebalances are incremental
    CLASSIC = "classic"  # client-side assignment, with the cooperative-sticky assignor


@dataclass(frozen=True)
class ServiceSettings:
    """The consumer-side settings of one service process."""

    group_protocol: GroupProtocol = GroupProtocol.CONSUMER
    group_instance_id: str | None = None
    max_in_flight: int = 256
    sync_workers: int = 32
    max_pending_per_partition: int = 1000
    # Wider than the pending bound: a key retrying in place holds the commit position, and the
    # other keys' finished events behind it must not stall its partition (a redelivery bound).
    max_uncommitted_per_partition: int = 10_000
    commit_interval: float = 1.0
    shutdown_deadline: float = 20.0
    max_poll_interval_ms: int = 300_000
    session_timeout_ms: int = 45_000
    auto_offset_reset: str = "earliest"
    http_port: int | None = 9400
    log_level: str = "INFO"
    retry_delay: float = 1.0
    kafka_start_timeout: float = 30.0
    gc_young_threshold: int = 10_000
    switch_interval_ms: float | None = None  # None: 0.5 ms with sync handlers, see switching
    topic_map: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.max_in_flight < 1 or self.sync_workers < 1:
            raise RuntimeConfigError("max_in_flight and sync_workers must be at least 1")
        if self.max_pending_per_partition < 1:
            raise RuntimeConfigError("max_pending_per_partition must be at least 1")
        if self.max_uncommitted_per_partition < self.max_pending_per_partition:
            raise RuntimeConfigError(
                "max_uncommitted_per_partition must be at least max_pending_per_partition"
            )
        if self.auto_offset_reset not in {"earliest", "latest"}:
            raise RuntimeConfigError("auto_offset_reset is 'earliest' or 'latest'")
        if self.switch_interval_ms is not None and self.switch_interval_ms < 0:
            raise RuntimeConfigError("switch_interval_ms is 0 (leave it) or more")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ServiceSettings:
        values: dict[str, Any] = {}
        try:
            if "CONVEYOR_GROUP_PROTOCOL" in env:
                values["group_protocol"] = GroupProtocol(env["CONVEYOR_GROUP_PROTOCOL"].lower())
            for name, key, kind in _SCALARS:
                if env.get(name):
                    values[key] = kind(env[name])
        except ValueError as exc:
            raise RuntimeConfigError(f"invalid service setting: {exc}") from exc
        if env.get("CONVEYOR_COMMIT_INTERVAL_MS"):
            values["commit_interval"] = int(env["CONVEYOR_COMMIT_INTERVAL_MS"]) / 1000
        port = env.get("CONVEYOR_HTTP_PORT")
        if port:
            values["http_port"] = None if port.lower() == "off" else int(port)
        if env.get("CONVEYOR_TOPIC_MAP"):
            values["topic_map"] = _parse_topic_map(env["CONVEYOR_TOPIC_MAP"])
        return cls(**values)


_SCALARS: tuple[tuple[str, str, type], ...] = (
    ("CONVEYOR_GROUP_INSTANCE_ID", "group_instance_id", str),
    ("CONVEYOR_MAX_IN_FLIGHT", "max_in_flight", int),
    ("CONVEYOR_SYNC_WORKERS", "sync_workers", int),
    ("CONVEYOR_MAX_PENDING_PER_PARTITION", "max_pending_per_partition", int),
    ("CONVEYOR_MAX_UNCOMMITTED_PER_PARTITION", "max_uncommitted_per_partition", int),
    ("CONVEYOR_SHUTDOWN_DEADLINE_S", "shutdown_deadline", float),
    ("CONVEYOR_MAX_POLL_INTERVAL_MS", "max_poll_interval_ms", int),
    ("CONVEYOR_SESSION_TIMEOUT_MS", "session_timeout_ms", int),
    ("CONVEYOR_AUTO_OFFSET_RESET", "auto_offset_reset", str),
    ("CONVEYOR_LOG_LEVEL", "log_level", str),
    ("CONVEYOR_RETRY_DELAY_S", "retry_delay", float),
    ("CONVEYOR_KAFKA_START_TIMEOUT_S", "kafka_start_timeout", float),
    ("CONVEYOR_GC_YOUNG_THRESHOLD", "gc_young_threshold", int),
    ("CONVEYOR_SWITCH_INTERVAL_MS", "switch_interval_ms", float),
)


def _parse_topic_map(text: str) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in filter(None, (part.strip() for part in text.split(","))):
        declared, sep, actual = pair.partition("=")
        if not sep or not declared or not actual:
            raise RuntimeConfigError(f"CONVEYOR_TOPIC_MAP entries are declared=actual: {pair!r}")
        mapping[declared.strip()] = actual.strip()
    return mapping


def consumer_config(
    service: str, bootstrap_servers: str, settings: ServiceSettings
) -> dict[str, Any]:
    """librdkafka settings for a service's consumer. Offsets are committed explicitly by the
    runtime (never auto-committed, never auto-stored) so a commit only covers finished work."""
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap_servers,
        "group.id": service,
        "client.id": service,
        "group.protocol": settings.group_protocol.value,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": settings.auto_offset_reset,
        "max.poll.interval.ms": settings.max_poll_interval_ms,
        "enable.partition.eof": False,
        # never see a transactional producer's aborted or still open records
        "isolation.level": "read_committed",
    }
    if settings.group_protocol is GroupProtocol.CLASSIC:
        config["partition.assignment.strategy"] = "cooperative-sticky"
        config["session.timeout.ms"] = settings.session_timeout_ms
    if settings.group_instance_id:
        config["group.instance.id"] = settings.group_instance_id
    return config
