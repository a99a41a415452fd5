"""A service reading a topic with lanes, run in-process against the broker, and what it handled."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from conveyor.lanes import Lanes
from conveyor.runtime import Context, Service, ServiceSettings, run_service
from conveyor.settings import Settings
from tests.conftest import create_topic
from tests.runtime.support import Ping, PingCodec, produce_pings


@dataclass
class LanedTopic:
    """A fresh topic with lanes `high`, `normal` (the topic itself) and `low`."""

    bootstrap: str
    base: str
    lanes: Lanes = field(default_factory=lambda: Lanes(("high", "normal", "low"), "normal"))

    @classmethod
    def create(cls, bootstrap: str, base: str, partitions: int = 3) -> LanedTopic:
        laned = cls(bootstrap, base)
        for topic in laned.lanes.topics(base):
            create_topic(bootstrap, topic, partitions)
        return laned

    def topic(self, lane: str) -> str:
        return self.lanes.topic(self.base, lane)

    def produce(self, lane: str, keys: list[str], per_key: int) -> list[Ping]:
        return produce_pings(self.bootstrap, self.topic(lane), keys, per_key)


@dataclass
class Handled:
    """What the service handled, in order: (lane topic, key, seq)."""

    order: list[tuple[str, str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of(self, topic: str) -> list[tuple[str, str, int]]:
        with self.lock:
            return [entry for entry in self.order if entry[0] == topic]

    def count(self) -> int:
        with self.lock:
            return len(self.order)


def laned_service(name: str, handled: Handled, seconds: float = 0.002) -> Service:
    """A service whose handler takes `seconds` (an API call) and records what it handled."""
    service = Service(name)

    @service.handler(Ping)
    async def record(event: Ping, ctx: Context) -> None:
        await asyncio.sleep(seconds)
        with handled.lock:
            handled.order.append((ctx.meta.topic, event.entity, event.seq))

    return service


@contextmanager
def running_laned(
    service: Service, laned: LanedTopic, settings: ServiceSettings
) -> Iterator[threading.Event]:
    """Run `service` on `laned`'s lanes in a thread; stops it gracefully on exit."""
    stop = threading.Event()
    result: list[int] = []
    base = Settings.from_env({"KAFKA_BOOTSTRAP_SERVERS": laned.bootstrap})
    lanes = {Ping.TOPIC: laned.lanes}

    def run() -> None:
        result.append(run_service(service, base, settings, PingCodec(), stop=stop, lanes=lanes))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join(30)
        assert result == [0], "the service did not stop as expected"
