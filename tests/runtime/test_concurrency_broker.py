"""Key-ordered concurrency and liveness against a real broker, with the service in-process."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from structlog.testing import capture_logs

from conveyor.runtime import Context, Service
from tests.conftest import TopicFactory
from tests.runtime.support import (
    Ping,
    committed_offsets,
    fast_settings,
    produce_pings,
    running,
    wait_until,
)

pytestmark = pytest.mark.kafka


def test_slow_key_does_not_delay_other_keys_of_its_partition(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """While one key's handler sleeps 2 s, every other key of the same partition finishes."""
    topic = new_topic(partitions=1)
    service = Service(f"slow-key-{topic}")
    finished: list[tuple[str, int]] = []

    @service.handler(Ping)
    async def handle(event: Ping, ctx: Context) -> None:
        if event.entity == "slow":
            await asyncio.sleep(2)
        finished.append((event.entity, event.seq))

    produce_pings(kafka_bootstrap, topic, ["slow"], per_key=1)
    others = [f"k{i}" for i in range(20)]
    produce_pings(kafka_bootstrap, topic, others, per_key=3)
    with running(service, kafka_bootstrap, fast_settings(topic_map={Ping.TOPIC: topic})):
        wait_until(lambda: ("slow", 0) in finished, what="the slow key")
    slow_at = finished.index(("slow", 0))
    assert len(finished) == 61
    assert slow_at == 60, "events of other keys waited behind the slow key"
    for key in others:
        assert [seq for k, seq in finished if k == key] == [0, 1, 2]


def test_handler_slower_than_max_poll_interval_keeps_its_membership(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """A sync handler running 3x max.poll.interval.ms neither loses the partition nor reruns."""
    topic = new_topic(partitions=1)
    service = Service(f"slow-handler-{topic}")
    calls: list[int] = []
    lock = threading.Lock()

    @service.handler(Ping)
    def handle(event: Ping, ctx: Context) -> None:
        with lock:
            calls.append(event.seq)
        if event.seq == 0:
            time.sleep(4.5)

    produce_pings(kafka_bootstrap, topic, ["only"], per_key=3)
    settings = fast_settings(topic_map={Ping.TOPIC: topic}, max_poll_interval_ms=1500)
    with running(service, kafka_bootstrap, settings):
        wait_until(lambda: len(calls) >= 3, what="all three events")
        wait_until(
            lambda: committed_offsets(kafka_bootstrap, service.name, topic, 1) == {0: 3},
            what="the commit after the slow handler",
        )
    assert calls == [0, 1, 2]


def test_partition_with_too_many_pending_events_is_paused_and_resumed_once_drained(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """A slow head event keeps its partition's completed prefix from advancing: past the
    uncommitted bound the partition is paused, and resumed when the head completes."""
    topic = new_topic(partitions=1)
    service = Service(f"pause-{topic}")
    handled: list[str] = []

    @service.handler(Ping)
    async def handle(event: Ping, ctx: Context) -> None:
        if event.entity == "slow":
            await asyncio.sleep(1)
        handled.append(event.entity)

    produce_pings(kafka_bootstrap, topic, ["slow"], per_key=1)
    produce_pings(kafka_bootstrap, topic, [f"k{i}" for i in range(30)], per_key=1)
    settings = fast_settings(
        topic_map={Ping.TOPIC: topic}, max_pending_per_partition=5, max_uncommitted_per_partition=5
    )
    with capture_logs() as logs, running(service, kafka_bootstrap, settings):
        wait_until(lambda: "slow" in handled, what="the slow head event")
        wait_until(
            lambda: committed_offsets(kafka_bootstrap, service.name, topic, 1) == {0: 31},
            what="the commit of the whole partition",
        )
    names = [entry["event"] for entry in logs if entry["event"].startswith("partition.")]
    assert names.index("partition.paused") < names.index("partition.resumed")
    # other keys ran while the head slept, but only up to the bound: the rest waited for it
    assert 1 <= handled.index("slow") <= 10


def test_a_small_pending_bound_does_not_pause_a_partition_whose_handlers_keep_up(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """Fetching is sized to the pending bound: a partition with quick handlers is never paused
    (a pause throws away librdkafka's prefetch), however small its bound."""
    topic = new_topic(partitions=1)
    service = Service(f"small-bound-{topic}")
    handled: list[str] = []

    @service.handler(Ping)
    async def handle(event: Ping, ctx: Context) -> None:
        handled.append(event.entity)

    produce_pings(kafka_bootstrap, topic, [f"k{i}" for i in range(100)], per_key=6)
    settings = fast_settings(topic_map={Ping.TOPIC: topic}, max_pending_per_partition=40)
    with capture_logs() as logs, running(service, kafka_bootstrap, settings):
        wait_until(lambda: len(handled) >= 600, what="every event handled")
    assert "partition.paused" not in [entry["event"] for entry in logs]
