"""Publisher against the shared broker: topics, keys, Java partitions, headers, typed errors."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from confluent_kafka import Consumer, TopicPartition

from conveyor import naming
from conveyor.codec import InvalidEventError
from conveyor.ops.partitioner import partition_of
from conveyor.publish import (
    AsyncPublisher,
    DeliveryError,
    DeliveryTimeoutError,
    Publisher,
    PublisherClosedError,
    PublisherConfig,
    QueueFullError,
)
from shop_events import ORDER_TOPIC, USER_TOPIC, OrderPlaced, UserSignedUp
from tests.conftest import TopicFactory
from tests.messages import headers_of, value_of
from tests.project import repo_codec
from tests.reading import read_until
from tests.samples import sample_events, signup

pytestmark = pytest.mark.kafka
PARTITIONS = 6


def _config(bootstrap: str, topics: dict[str, str]) -> PublisherConfig:
    return PublisherConfig(bootstrap_servers=bootstrap, topics=topics)


def _unreachable() -> str:
    return "127.0.0.1:1"  # nothing listens on port 1


def test_every_event_type_arrives_on_its_topic_key_and_partition_of(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """Each event type lands on its (renamed) topic, keyed by entity id, on the partition Java's
    murmur2 picks, with the contract headers and a body that decodes to the same event."""
    topics = {
        USER_TOPIC: new_topic(partitions=PARTITIONS, suffix="users"),
        ORDER_TOPIC: new_topic(partitions=PARTITIONS, suffix="orders"),
    }
    codec = repo_codec()
    events = [e for i in range(8) for e in sample_events(f"order-{i}")]
    with Publisher(_config(kafka_bootstrap, topics), codec) as publisher:
        handles = [publisher.publish(e, correlation_id="corr-1") for e in events]
        results = {h.event_id: h.wait(30) for h in handles}

    messages = read_until(kafka_bootstrap, list(topics.values()), expect=len(events))
    by_id = {str(e.event_id): e for e in events}
    assert sorted(headers_of(m)[naming.EVENT_ID].decode() for m in messages) == sorted(by_id)
    for msg in messages:
        headers = headers_of(msg)
        event = by_id[headers[naming.EVENT_ID].decode()]
        assert msg.topic() == topics[event.TOPIC]
        assert msg.key() == event.key.encode()
        assert msg.partition() == partition_of(event.key.encode(), PARTITIONS)
        assert results[str(event.event_id)] == (msg.partition(), msg.offset())
        assert headers[naming.EVENT_TYPE] == event.AVRO_NAME.encode()
        assert headers[naming.CONTENT_TYPE] == naming.AVRO_CONTENT_TYPE.encode()
        assert headers[naming.CORRELATION_ID] == b"corr-1"
        assert naming.TRACEPARENT not in headers
        assert codec.decode(value_of(msg)) == event


def test_settled_handles_keep_their_result_for_every_wait(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """A delivered handle answers every later `wait` with the same (partition, offset), also
    after the publisher is closed, and counts as succeeded."""
    topic = new_topic(partitions=PARTITIONS)
    with Publisher(_config(kafka_bootstrap, {USER_TOPIC: topic}), repo_codec()) as publisher:
        handles = [publisher.publish(signup(f"user-{i}")) for i in range(10)]
        first = [h.wait(30) for h in handles]
    assert [h.wait(0) for h in handles] == first
    assert all(h.succeeded() for h in handles)
    messages = read_until(kafka_bootstrap, [topic], expect=len(handles))
    assert {(m.partition(), m.offset()) for m in messages} == set(first)


def test_invalid_event_raises_and_sends_nothing(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """An event that breaks its model raises InvalidEventError in publish; the topic stays empty."""
    topic = new_topic(partitions=1)
    bad = OrderPlaced.model_construct(  # type: ignore[call-arg]
        order_id="o-1", user_id="u-1", items=(), currency="euro"
    )
    topics = {ORDER_TOPIC: topic, USER_TOPIC: topic}
    with Publisher(_config(kafka_bootstrap, topics), repo_codec()) as publisher:
        with pytest.raises(InvalidEventError):
            publisher.publish(bad)
        assert publisher.flush(10) == 0
    consumer = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": "watermarks"})
    try:
        assert consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10) == (0, 0)
    finally:
        consumer.close()


def test_traceparent_header_is_added_when_given(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """A traceparent passed to publish travels as the `traceparent` header."""
    topic = new_topic(partitions=1)
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    with Publisher(_config(kafka_bootstrap, {USER_TOPIC: topic}), repo_codec()) as publisher:
        publisher.publish(signup("u-trace"), traceparent=parent).wait(30)
    [msg] = read_until(kafka_bootstrap, [topic], expect=1)
    assert headers_of(msg)[naming.TRACEPARENT] == parent.encode()
    assert naming.CORRELATION_ID not in headers_of(msg)


def test_async_publisher_handles_are_awaitable(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """AsyncPublisher.publish returns at once; awaiting the handle gives (partition, offset)."""
    topic = new_topic(partitions=PARTITIONS)
    events = [signup(f"user-{i}") for i in range(20)]

    async def run() -> list[tuple[int, int]]:
        config = _config(kafka_bootstrap, {USER_TOPIC: topic})
        async with AsyncPublisher(config, repo_codec()) as publisher:
            handles = [await publisher.publish(e) for e in events]
            results = [await h for h in handles]
            return [(result.partition, result.offset) for result in results]

    results = asyncio.run(run())
    assert [p for p, _ in results] == [partition_of(e.key.encode(), PARTITIONS) for e in events]
    messages = read_until(kafka_bootstrap, [topic], expect=len(events))
    assert {(m.partition(), m.offset()) for m in messages} == set(results)


def test_full_local_queue_raises_queue_full_after_backpressure_timeout() -> None:
    """With no broker and a queue of 5, the 6th publish waits the backpressure timeout, then
    raises QueueFullError; closing fails the queued deliveries instead of leaving them open."""
    config = PublisherConfig(
        bootstrap_servers=_unreachable(), queue_max_messages=5, backpressure_timeout=0.3
    )
    publisher = Publisher(config, repo_codec())
    handles = [publisher.publish(signup(f"u-{i}")) for i in range(5)]
    with pytest.raises(QueueFullError):
        publisher.publish(signup("u-6"))
    publisher.close(timeout=0)
    for handle in handles:
        with pytest.raises(DeliveryError):
            handle.wait(10)
    with pytest.raises(PublisherClosedError):
        publisher.publish(signup("u-7"))


def test_unreachable_broker_fails_delivery_after_the_delivery_timeout() -> None:
    """With no broker at all, the handle raises DeliveryTimeoutError once the configured delivery
    timeout passes: a bounded wait, never a hang."""
    config = PublisherConfig(bootstrap_servers=_unreachable(), delivery_timeout=1.0)
    event = signup(f"u-{uuid.uuid4().hex[:6]}")
    with Publisher(config, repo_codec()) as publisher:
        handle = publisher.publish(event)
        with pytest.raises(DeliveryTimeoutError) as caught:
            handle.wait(30)
    assert caught.value.event_id == handle.event_id
    assert (caught.value.topic, caught.value.key) == (USER_TOPIC, event.key.encode())
    assert isinstance(caught.value, DeliveryError)
    assert handle.done()
    assert not handle.succeeded()


def test_publish_returns_before_delivery_is_known() -> None:
    """publish does not wait for the network: with no broker it still returns a pending handle."""
    config = PublisherConfig(bootstrap_servers=_unreachable(), delivery_timeout=5.0)
    publisher = Publisher(config, repo_codec())
    handle = publisher.publish(UserSignedUp(user_id="u-x", email="x@example.org", name="X"))
    assert not handle.done()
    publisher.close(timeout=0)


def test_async_publisher_applies_backpressure_then_fails_pending_handles_on_close() -> None:
    """AsyncPublisher waits (without blocking the loop) for room, raises QueueFullError after the
    backpressure timeout, and its pending handles raise DeliveryError once it is closed."""
    config = PublisherConfig(
        bootstrap_servers=_unreachable(), queue_max_messages=2, backpressure_timeout=0.3
    )

    async def run() -> None:
        publisher = AsyncPublisher(config, repo_codec())
        handles = [await publisher.publish(signup(f"u-{i}")) for i in range(2)]
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        beat = asyncio.create_task(ticker())
        with pytest.raises(QueueFullError):
            await publisher.publish(signup("u-3"))
        beat.cancel()
        assert ticks > 0, "the event loop was blocked during backpressure"
        await publisher.close(timeout=0)
        for handle in handles:
            with pytest.raises(DeliveryError):
                await handle

    asyncio.run(run())
