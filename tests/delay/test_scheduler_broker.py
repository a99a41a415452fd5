"""The scheduler against the real broker: delayed events reach their topic not before their due
time, in due order and per-key order, once each, cancelled ones never, through a SIGKILL."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from conveyor.delay import DelayTooLongError
from conveyor.ops.broker import Broker
from conveyor.ops.delayed import delayed_status
from conveyor.runtime.transactions import transactional_id
from tests.delay.support import (
    DelayTopics,
    kill,
    read_arrivals,
    scheduler_thread,
    signup,
    start_scheduler,
)

pytestmark = pytest.mark.timeout(60)
PUBLISHING_TIME = 5.0  # seconds the four publishes may take before the first is due


def test_delayed_events_arrive_not_before_their_time_and_in_due_order(
    delay_topics: DelayTopics,
) -> None:
    """Events published with decreasing due times arrive in due order, none before its due
    time. The due times are fixed from one instant, so a slow publish cannot reorder them."""
    due: dict[str, int] = {}
    base = time.time() + PUBLISHING_TIME
    with scheduler_thread(delay_topics.settings()), delay_topics.publisher() as publisher:
        for n, after in enumerate([3.0, 2.0, 1.0, 0.0]):
            event = signup(f"u-{n}")
            handle = publisher.publish(event, deliver_at=datetime.fromtimestamp(base + after, UTC))
            handle.wait(10)
            due[str(event.event_id)] = int((base + after) * 1000)
        arrivals = read_arrivals(delay_topics.bootstrap, delay_topics.destination, 4, timeout=30)
    assert sorted(a.event_id for a in arrivals) == sorted(due)
    assert [a.key for a in sorted(arrivals, key=lambda a: a.timestamp_ms)] == [
        "u-3",
        "u-2",
        "u-1",
        "u-0",
    ]
    for arrival in arrivals:
        assert arrival.timestamp_ms >= due[arrival.event_id] - 1_000
        assert arrival.timestamp_ms <= due[arrival.event_id] + 5_000


def test_events_due_at_the_same_time_keep_their_order_per_key(delay_topics: DelayTopics) -> None:
    """Events of several keys all due at one instant arrive in publish order per key."""
    at = datetime.now(UTC) + timedelta(seconds=2)
    published: dict[str, list[str]] = {}
    with delay_topics.publisher() as publisher:
        for n in range(60):
            key = f"k-{n % 4}"
            event = signup(key)
            publisher.publish(event, deliver_at=at)
            published.setdefault(key, []).append(str(event.event_id))
        assert publisher.flush(10) == 0
    with scheduler_thread(delay_topics.settings()):
        arrivals = read_arrivals(delay_topics.bootstrap, delay_topics.destination, 60, timeout=30)
    arrived: dict[str, list[str]] = {}
    for arrival in arrivals:  # read per partition in offset order: one key's order is kept
        arrived.setdefault(arrival.key, []).append(arrival.event_id)
    assert arrived == published
    assert min(a.timestamp_ms for a in arrivals) >= int(at.timestamp() * 1000)


def test_a_cancelled_event_is_never_delivered(delay_topics: DelayTopics) -> None:
    """Of two events of one key due together, the cancelled one never arrives."""
    with delay_topics.publisher() as publisher, scheduler_thread(delay_topics.settings()):
        doomed, kept = signup("u-1"), signup("u-1")
        publisher.publish(doomed, delay=timedelta(seconds=2)).wait(10)
        publisher.publish(kept, delay=timedelta(seconds=2)).wait(10)
        publisher.cancel_delayed(str(doomed.event_id)).wait(10)
        arrivals = read_arrivals(
            delay_topics.bootstrap, delay_topics.destination, 1, timeout=30, settle=3
        )
    assert [a.event_id for a in arrivals] == [str(kept.event_id)]


def test_a_delay_in_the_past_delivers_at_once(delay_topics: DelayTopics) -> None:
    """A deliver_at an hour ago is delivered at the scheduler's first look."""
    with delay_topics.publisher() as publisher, scheduler_thread(delay_topics.settings()):
        event = signup("u-1")
        publisher.publish(event, deliver_at=datetime.now(UTC) - timedelta(hours=1)).wait(10)
        arrivals = read_arrivals(delay_topics.bootstrap, delay_topics.destination, 1, timeout=30)
    assert [a.event_id for a in arrivals] == [str(event.event_id)]


def test_a_delay_beyond_the_maximum_is_refused_and_nothing_is_sent(
    delay_topics: DelayTopics,
) -> None:
    """A 31-day delay raises DelayTooLongError and writes nothing to the delay topic."""
    with delay_topics.publisher() as publisher:
        with pytest.raises(DelayTooLongError):
            publisher.publish(signup("u-1"), delay=timedelta(days=31))
        assert publisher.flush(10) == 0
    consumer = Consumer({"bootstrap.servers": delay_topics.bootstrap, "group.id": "peek"})
    try:
        ends = [
            consumer.get_watermark_offsets(TopicPartition(delay_topics.delay, p), timeout=10)[1]
            for p in range(3)
        ]
    finally:
        consumer.close()
    assert ends == [0, 0, 0]


def test_a_killed_scheduler_loses_nothing_and_duplicates_nothing_committed(
    delay_topics: DelayTopics, tmp_path: Path
) -> None:
    """SIGKILL mid-stream, then a restart: every event arrives exactly once (read_committed)."""
    log = tmp_path / "scheduler.log"
    ids: list[str] = []
    scheduler = start_scheduler(delay_topics, log)
    try:
        with delay_topics.publisher() as publisher:
            for n in range(300):
                event = signup(f"k-{n % 20}")
                # due times spread over 6 s, out of offset order
                publisher.publish(event, delay=timedelta(milliseconds=(n * 37) % 6_000))
                ids.append(str(event.event_id))
            assert publisher.flush(10) == 0
        # kill once events due later than others of their partitions were delivered: the
        # partitions' commit positions then lie behind delivered events
        read_arrivals(delay_topics.bootstrap, delay_topics.destination, 120, timeout=30)
        kill(scheduler)
        scheduler = start_scheduler(delay_topics, log)
        arrivals = read_arrivals(
            delay_topics.bootstrap, delay_topics.destination, 300, timeout=45, settle=2
        )
    finally:
        kill(scheduler)
    counts = Counter(a.event_id for a in arrivals)
    assert set(counts) == set(ids), log.read_text()[-3000:]
    assert max(counts.values()) == 1


def test_status_counts_waiting_events_per_destination_without_cancelled_or_delivered(
    delay_topics: DelayTopics,
) -> None:
    """Status shows the events still waiting for their time and the next due time; delivered
    and cancelled ones are not counted."""
    with delay_topics.publisher() as publisher, scheduler_thread(delay_topics.settings()):
        publisher.publish(signup("u-0"), delay=timedelta(0)).wait(10)
        read_arrivals(delay_topics.bootstrap, delay_topics.destination, 1, timeout=30)
        later = [signup(f"u-{n}") for n in range(1, 4)]
        for n, event in enumerate(later, start=1):
            publisher.publish(event, delay=timedelta(hours=n)).wait(10)
        publisher.cancel_delayed(str(later[0].event_id)).wait(10)
        broker = Broker.connect(delay_topics.bootstrap)
        found = delayed_status(broker, delay_topics.delay, delay_topics.cancel, delay_topics.group)
    assert found is not None
    assert list(found.by_topic) == [delay_topics.destination]
    assert found.events == 2
    next_due = found.by_topic[delay_topics.destination].next_due_ms
    assert next_due is not None
    assert (
        next_due > (time.time() + 1.5 * 3600) * 1000
    )  # the 2-hour one: the 1-hour one is cancelled


def test_two_scheduler_replicas_share_the_partitions_and_deliver_each_event_once(
    delay_topics: DelayTopics,
) -> None:
    """Two members of one scheduler group, one joining mid-stream: every event arrives once."""
    ids: list[str] = []
    with delay_topics.publisher() as publisher, scheduler_thread(delay_topics.settings("a")):
        for n in range(200):
            event = signup(f"k-{n % 10}")
            publisher.publish(event, delay=timedelta(milliseconds=(n * 53) % 5_000))
            ids.append(str(event.event_id))
        assert publisher.flush(10) == 0
        with scheduler_thread(delay_topics.settings("b")):
            arrivals = read_arrivals(
                delay_topics.bootstrap, delay_topics.destination, 200, timeout=45, settle=2
            )
    counts = Counter(a.event_id for a in arrivals)
    assert set(counts) == set(ids)
    assert max(counts.values()) == 1


def test_a_fenced_scheduler_replaces_its_producer_and_loses_nothing(
    delay_topics: DelayTopics,
) -> None:
    """Another producer takes the scheduler's transactional id mid-stream (as a stale epoch after
    a coordinator moved does): the scheduler replaces its producer, rewinds, and every event
    still arrives exactly once (read_committed)."""
    settings = delay_topics.settings()
    ids: list[str] = []
    with scheduler_thread(settings), delay_topics.publisher() as publisher:
        for n in range(100):
            event = signup(f"k-{n % 10}")
            publisher.publish(event, delay=timedelta(milliseconds=(n * 41) % 4_000))
            ids.append(str(event.event_id))
        assert publisher.flush(10) == 0
        read_arrivals(delay_topics.bootstrap, delay_topics.destination, 20, timeout=30)
        _fence(delay_topics.bootstrap, transactional_id(settings.group, settings.consumer))
        arrivals = read_arrivals(
            delay_topics.bootstrap, delay_topics.destination, 100, timeout=45, settle=2
        )
    counts = Counter(a.event_id for a in arrivals)
    assert set(counts) == set(ids)
    assert max(counts.values()) == 1


def _fence(bootstrap: str, transactional_id: str) -> None:
    """Initialise transactions under `transactional_id`: its earlier producer is fenced."""
    usurper = Producer({"bootstrap.servers": bootstrap, "transactional.id": transactional_id})
    usurper.init_transactions(30)
    usurper.flush(5)
