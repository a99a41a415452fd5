"""Batch handlers and the classic group protocol, against a real broker."""

from __future__ import annotations

import threading

import pytest

from conveyor.runtime import BatchContext, BatchPolicy, Context, GroupProtocol, Service
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


def test_batch_handler_gets_bounded_lists_in_fetch_order_and_commits_them(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """A batch handler receives every event once, in lists of at most max_size, each key's
    events in order, `ctx.metas[i]` describing `events[i]`; all offsets are committed
    afterwards."""
    topic = new_topic(partitions=2)
    service = Service(f"batch-{topic}")
    batches: list[list[tuple[str, int]]] = []
    mismatched: list[tuple[str, str | None]] = []
    lock = threading.Lock()

    @service.batch_handler(Ping, BatchPolicy(max_size=25, max_wait=0.2))
    def load(events: list[Ping], ctx: BatchContext) -> None:
        with lock:
            batches.append([(e.entity, e.seq) for e in events])
            mismatched.extend(
                (str(event.event_id), meta.event_id)
                for event, meta in zip(events, ctx.metas, strict=True)
                if meta.event_id != str(event.event_id) or meta.key != event.entity
            )

    produce_pings(kafka_bootstrap, topic, [f"k{i}" for i in range(10)], per_key=10)
    with running(service, kafka_bootstrap, fast_settings(topic_map={Ping.TOPIC: topic})):
        wait_until(lambda: sum(map(len, batches)) >= 100, what="all events in batches")
        wait_until(
            lambda: sum(committed_offsets(kafka_bootstrap, service.name, topic, 2).values()) == 100,
            what="the commits",
        )
    assert all(1 <= len(batch) <= 25 for batch in batches)
    assert mismatched == []
    handled = [item for batch in batches for item in batch]
    assert len(handled) == len(set(handled)) == 100
    for key in {k for k, _ in handled}:
        assert [seq for k, seq in handled if k == key] == list(range(10))


def test_classic_protocol_with_cooperative_sticky_consumes_and_commits(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """With the classic group protocol (cooperative-sticky), the service handles every event
    and commits the end of each partition."""
    topic = new_topic(partitions=3)
    service = Service(f"classic-{topic}")
    seen: set[tuple[str, int]] = set()

    @service.handler(Ping)
    async def handle(event: Ping, ctx: Context) -> None:
        seen.add((event.entity, event.seq))

    produce_pings(kafka_bootstrap, topic, [f"k{i}" for i in range(12)], per_key=5)
    settings = fast_settings(
        topic_map={Ping.TOPIC: topic},
        group_protocol=GroupProtocol.CLASSIC,
        session_timeout_ms=6000,
    )
    with running(service, kafka_bootstrap, settings):
        wait_until(lambda: len(seen) == 60, what="every event")
        wait_until(
            lambda: sum(committed_offsets(kafka_bootstrap, service.name, topic, 3).values()) == 60,
            what="the commits",
        )
