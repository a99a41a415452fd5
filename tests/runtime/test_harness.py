"""The in-memory double runs a service's handlers without Kafka, sync, async and batch alike."""

from __future__ import annotations

import pytest

from conveyor.runtime import BatchContext, BatchPolicy, Context, Service
from conveyor.runtime.errors import DuplicateHandlerError
from conveyor.runtime.testing import ServiceHarness
from tests.runtime.support import Ping


class Pong(Ping):
    AVRO_NAME = "conveyor.test.Pong"


def test_harness_feeds_sync_and_async_handlers_and_records_what_they_publish() -> None:
    service = Service("harness")
    seen: list[tuple[str, int, int]] = []

    @service.handler(Ping)
    def on_ping(event: Ping, ctx: Context) -> None:
        seen.append((event.entity, event.seq, ctx.meta.offset))
        ctx.publish(Pong(entity=event.entity, seq=event.seq))

    @service.handler(Pong)
    async def on_pong(event: Pong, ctx: Context) -> None:
        seen.append(("pong", event.seq, ctx.attempt))

    harness = ServiceHarness(service)
    assert harness.feed(Ping(entity="a", seq=1))
    assert harness.feed(Ping(entity="a", seq=2))
    assert harness.feed(Pong(entity="a", seq=9), attempt=3)
    assert seen == [("a", 1, 0), ("a", 2, 1), ("pong", 9, 3)]
    assert [type(e) for e in harness.published] == [Pong, Pong]


def test_harness_records_the_lane_each_follow_up_names() -> None:
    service = Service("harness")

    @service.handler(Ping)
    def on_ping(event: Ping, ctx: Context) -> None:
        ctx.publish(Pong(entity=event.entity, seq=event.seq), lane="urgent" if event.seq else None)

    harness = ServiceHarness(service)
    harness.feed(Ping(entity="a", seq=1))
    harness.feed(Ping(entity="a", seq=0))
    assert [e.seq for e in harness.published if isinstance(e, Pong)] == [1, 0]
    assert harness.published_lanes == ["urgent", None]


def test_harness_skips_types_without_handler_and_propagates_handler_errors() -> None:
    service = Service("harness")

    @service.handler(Ping)
    def on_ping(event: Ping, ctx: Context) -> None:
        raise RuntimeError("boom")

    harness = ServiceHarness(service)
    assert not harness.feed(Pong(entity="x"))
    with pytest.raises(RuntimeError, match="boom"):
        harness.feed(Ping(entity="x"))


def test_harness_hands_batches_to_batch_handlers() -> None:
    service = Service("harness")
    batches: list[list[int]] = []

    @service.batch_handler(Ping, BatchPolicy(max_size=10, max_wait=0.1))
    def load(events: list[Ping], ctx: BatchContext) -> None:
        assert len(ctx.metas) == len(events)
        batches.append([e.seq for e in events])

    harness = ServiceHarness(service)
    harness.feed_batch([Ping(entity="a", seq=i) for i in range(3)])
    harness.feed(Ping(entity="b", seq=7))
    assert batches == [[0, 1, 2], [7]]


def test_one_handler_per_event_type() -> None:
    service = Service("harness")
    service.handler(Ping)(lambda event, ctx: None)
    with pytest.raises(DuplicateHandlerError):
        service.handler(Ping)(lambda event, ctx: None)
