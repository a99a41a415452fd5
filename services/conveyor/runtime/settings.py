"""How one service process consumes: read once from the environment in `main`, then frozen.

Every variable is a field below (`conveyor settings` prints them all with their defaults).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import field_validator, model_validator

from conveyor.environment import EnvModel, variable
from conveyor.errors import ConveyorError
from conveyor.runtime.errors import RuntimeConfigError


class GroupProtocol(enum.Enum):
    CONSUMER = "consumer"  # KIP-848: the broker assigns, rebalances are incremental
    CLASSIC = "classic"  # client-side assignment, with the cooperative-sticky assignor


class ServiceSettings(EnvModel):
    """The consumer-side settings of one service process."""

    settings_error: ClassVar[type[ConveyorError]] = RuntimeConfigError

    group_protocol: GroupProtocol = variable(
        "CONVEYOR_GROUP_PROTOCOL",
        GroupProtocol.CONSUMER,
        description="`consumer` (KIP-848: the broker assigns) or `classic` (the "
        "`cooperative-sticky` assignor).",
        example="classic",
    )
    membership_check_interval: float = variable(
        "CONVEYOR_MEMBERSHIP_CHECK_S",
        0.0,
        description="Under the `consumer` protocol, how often a process asks the group "
        "coordinator which partitions it counts as this member's, to rejoin when the two "
        "disagree (see `conveyor.runtime.membership`); 0, the default, never asks.",
        example="5",
        ge=0,
    )
    group_instance_id: str | None = variable(
        "CONVEYOR_GROUP_INSTANCE_ID",
        None,
        description="Static membership id, e.g. the pod name.",
        example="pod-3",
    )
    max_in_flight: int = variable(
        "CONVEYOR_MAX_IN_FLIGHT",
        256,
        description="Keys handled at once (each key one event at a time, in offset order).",
        example="16",
        ge=1,
    )
    sync_workers: int = variable(
        "CONVEYOR_SYNC_WORKERS",
        32,
        description="Threads running sync handlers.",
        example="8",
        ge=1,
    )
    max_pending_per_partition: int = variable(
        "CONVEYOR_MAX_PENDING_PER_PARTITION",
        1000,
        description="Events fetched and not yet finished per partition before it pauses.",
        example="500",
        ge=1,
    )
    # Wider than the pending bound: a key retrying in place holds the commit position, and the
    # other keys' finished events behind it must not stall its partition (a redelivery bound).
    max_uncommitted_per_partition: int = variable(
        "CONVEYOR_MAX_UNCOMMITTED_PER_PARTITION",
        10_000,
        description="Events fetched past the commit position per partition (finished ones "
        "behind an unfinished one included) before it pauses.",
        example="50000",
    )
    commit_interval: float = variable(
        "CONVEYOR_COMMIT_INTERVAL_MS",
        1.0,
        unit="ms",
        description="How often finished offsets are committed.",
        example="250",
    )
    shutdown_deadline: float = variable(
        "CONVEYOR_SHUTDOWN_DEADLINE_S",
        20.0,
        description="Seconds in-flight work may take to finish at shutdown or revocation.",
        example="5",
    )
    max_poll_interval_ms: int = variable(
        "CONVEYOR_MAX_POLL_INTERVAL_MS",
        300_000,
        description="librdkafka's `max.poll.interval.ms`.",
        example="60000",
    )
    session_timeout_ms: int = variable(
        "CONVEYOR_SESSION_TIMEOUT_MS",
        45_000,
        description="librdkafka's `session.timeout.ms` (classic protocol only).",
        example="10000",
    )
    auto_offset_reset: str = variable(
        "CONVEYOR_AUTO_OFFSET_RESET",
        "earliest",
        description="Where a group without committed offsets starts: `earliest` or `latest`.",
        example="latest",
    )
    http_port: int | None = variable(
        "CONVEYOR_HTTP_PORT",
        9400,
        description="Port of `/metrics`, `/livez` and `/readyz`; 0 picks a free one, `off` "
        "disables them.",
        example="off",
    )
    log_level: str = variable(
        "CONVEYOR_LOG_LEVEL",
        "INFO",
        description="Level of the JSON logs.",
        example="DEBUG",
    )
    retry_delay: float = variable(
        "CONVEYOR_RETRY_DELAY_S",
        1.0,
        description="Seconds before a failed event is tried again when the service runs "
        "without conveyor's failure policies (`run_service` without an extension).",
        example="0.5",
    )
    kafka_start_timeout: float = variable(
        "CONVEYOR_KAFKA_START_TIMEOUT_S",
        30.0,
        description="How long a starting process waits for a first answer from a broker "
        "before it stops, reporting a wrong address; outages after that are waited out.",
        example="5",
    )
    gc_young_threshold: int = variable(
        "CONVEYOR_GC_YOUNG_THRESHOLD",
        10_000,
        description="Young-generation threshold of Python's garbage collector (in services and "
        "the gateway); 0 leaves the collector as it is (see `conveyor.runtime.gc_tuning`).",
        example="0",
    )
    switch_interval_ms: float | None = variable(
        "CONVEYOR_SWITCH_INTERVAL_MS",
        None,
        shown="0.5 with sync handlers, else left",
        description="The interpreter's thread switch interval; 0 leaves it as it is.",
        example="2",
    )
    topic_map: Mapping[str, str] = variable(
        "CONVEYOR_TOPIC_MAP",
        default_factory=dict,
        description="`declared=actual,...`: run the service against renamed topics.",
        example="user.signup=signup-copy",
    )

    @field_validator("group_protocol", mode="before")
    @classmethod
    def _protocol_in_any_case(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("http_port", mode="before")
    @classmethod
    def _port_or_off(cls, value: Any) -> Any:
        return None if isinstance(value, str) and value.lower() == "off" else value

    @field_validator("topic_map", mode="before")
    @classmethod
    def _pairs(cls, value: Any) -> Any:
        return _parse_topic_map(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _consistent(self) -> ServiceSettings:
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
        return self


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
