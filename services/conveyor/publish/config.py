"""Producer settings as one value, turned into librdkafka's dotted keys in one place."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from types import MappingProxyType

from conveyor.clients.config import ClientConfig
from conveyor.clients.connection import connection_settings
from conveyor.lanes.model import Lanes
from conveyor.settings import Settings


class Compression(StrEnum):
    LZ4 = "lz4"
    ZSTD = "zstd"
    NONE = "none"


@dataclass(frozen=True)
class PublisherConfig:
    """How a process publishes: where, how durably, and how long it may wait.

    `delivery_timeout` bounds the time from `publish` to a delivery result: a broker that stays
    away that long turns into a `DeliveryTimeoutError` (`math.inf`: retry until delivered, for
    the outbox relay, which must never skip a row). `backpressure_timeout` bounds how long
    `publish` blocks while the local queue is full before raising `QueueFullError`.
    `topics` renames topics (for example to per-test or per-tenant names): the event type's
    `TOPIC` maps to the topic actually written (the delay topics `conveyor.delayed` and
    `conveyor.delayed.cancel` too). `max_delay` bounds `publish(..., delay=...)`. `lanes`: the
    lanes of topics that have them, by declared topic (`Topology.lanes`).
    """

    bootstrap_servers: str
    client_id: str = "conveyor-publisher"
    compression: Compression = Compression.LZ4
    linger_ms: float = 5.0
    delivery_timeout: float = 30.0
    backpressure_timeout: float = 5.0
    queue_max_messages: int = 100_000
    gapless: bool = False
    max_delay: timedelta = timedelta(days=30)
    topics: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    lanes: Mapping[str, Lanes] = field(default_factory=lambda: MappingProxyType({}))
    # How to connect (SASL, TLS); None: as the process's entry point chose (`clients.connection`).
    client: ClientConfig | None = field(default=None, repr=False)
    extra: Mapping[str, str | int | float | bool] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def __post_init__(self) -> None:
        if self.delivery_timeout <= 0 or self.backpressure_timeout < 0:
            raise ValueError("delivery_timeout must be > 0 and backpressure_timeout >= 0")

    @classmethod
    def from_settings(cls, settings: Settings) -> PublisherConfig:
        """Defaults for this process's broker and its project's lanes; adjust with
        `dataclasses.replace`."""
        return cls(
            bootstrap_servers=settings.bootstrap_servers,
            max_delay=settings.max_delay,
            client=settings.client,
            lanes=settings.lanes(),
        )

    def topic_for(self, declared: str) -> str:
        return self.topics.get(declared, declared)

    def librdkafka(self) -> dict[str, str | int | float | bool]:
        """The producer configuration; `extra` may override anything but idempotence."""
        config: dict[str, str | int | float | bool] = {
            **connection_settings(self.bootstrap_servers, self.client),
            "client.id": self.client_id,
            "enable.idempotence": True,
            "acks": "all",
            "compression.type": self.compression.value,
            "linger.ms": self.linger_ms,
            # Java's default partitioner: murmur2 of the key, random partition for no key.
            "partitioner": "murmur2_random",
            "message.timeout.ms": _millis(self.delivery_timeout),
            "queue.buffering.max.messages": self.queue_max_messages,
        }
        if self.gapless:  # librdkafka warns about this experimental property whenever it is set
            config["enable.gapless.guarantee"] = True
        config.update(self.extra)
        config["enable.idempotence"] = True
        return config


def _millis(seconds: float) -> int:
    """librdkafka's milliseconds; 0 means no timeout."""
    return 0 if math.isinf(seconds) else max(1, int(seconds * 1000))
