"""Unordered handlers move a failing event through the retry tiers, then to the dead letters."""

from __future__ import annotations

import threading
import time

import pytest

from conveyor import naming
from conveyor.policies import Policies
from conveyor.retry import Backoff, RetryPolicy
from conveyor.runtime import Context, HandlerPolicy, Ordering, Service
from tests.conftest import TopicFactory
from tests.failures.support import create_side_topics, read_all, running_with
from tests.runtime.support import Ping, committed_offsets, fast_settings, produce_pings, wait_until

pytestmark = pytest.mark.kafka


def test_failing_event_goes_through_each_tier_with_growing_delays_then_dead_letters(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """Tier 1 then tier 2 hold the event for 0.5 s then 1 s (from the headers), then the dead
    letters; the events behind it on the main topic are handled before its first retry."""
    topic = new_topic(partitions=1)
    service = Service(f"s-{topic}")
    create_side_topics(kafka_bootstrap, service.name, tiers=2)
    policy = RetryPolicy(attempts=3, backoff=Backoff(delay=0.5, max_delay=10))
    calls: list[tuple[str, int, str, float, bytes | None]] = []
    lock = threading.Lock()

    @service.handler(Ping, policy=HandlerPolicy(ordering=Ordering.UNORDERED, retry=policy))
    def send_email(event: Ping, ctx: Context) -> None:
        with lock:
            calls.append(
                (
                    event.entity,
                    event.seq,
                    ctx.meta.topic,
                    time.time(),
                    ctx.meta.header(naming.RETRY_DUE_AT),
                )
            )
        if event.entity == "X":
            raise ConnectionError("smtp down")

    sent = produce_pings(kafka_bootstrap, topic, ["X"], per_key=1)
    sent += produce_pings(kafka_bootstrap, topic, [f"k{i}" for i in range(20)], per_key=2)
    dlq = naming.dead_letter_topic(service.name)
    with running_with(
        service,
        kafka_bootstrap,
        fast_settings(topic_map={Ping.TOPIC: topic}),
        Policies(kafka_bootstrap),
    ):
        wait_until(
            lambda: len(read_all(kafka_bootstrap, dlq, 1, timeout=1)) == 1, what="the dead letter"
        )
        wait_until(
            lambda: committed_offsets(kafka_bootstrap, service.name, topic, 1) == {0: len(sent)},
            what="the main topic committed",
        )

    x_calls = [c for c in calls if c[0] == "X"]
    assert [c[2] for c in x_calls] == [
        topic,
        naming.retry_topic(service.name, 1),
        naming.retry_topic(service.name, 2),
    ]
    first_retry_at = x_calls[1][3]
    others = [c for c in calls if c[0] != "X"]
    assert len(others) == 40
    assert all(c[3] < first_retry_at for c in others), "the main topic waited for the failing event"
    for _, _, _, called_at, due in x_calls[1:]:
        assert due is not None
        assert called_at * 1000 >= int(due), "a tier released an event before it was due"

    tier1 = read_all(kafka_bootstrap, naming.retry_topic(service.name, 1), 1)
    tier2 = read_all(kafka_bootstrap, naming.retry_topic(service.name, 2), 1)
    delays = [
        int(dict(r.headers)[naming.RETRY_DUE_AT]) - int(dict(r.headers)[naming.LAST_FAILED_AT])
        for r in (*tier1, *tier2)
    ]
    assert delays == [500, 1000]
    [dead] = read_all(kafka_bootstrap, dlq, 1)
    headers = dict(dead.headers)
    assert headers[naming.ATTEMPTS] == b"3"
    assert headers[naming.ORIGINAL_TOPIC] == topic.encode()
    assert headers[naming.ORIGINAL_OFFSET] == b"0"
    assert int(headers[naming.LAST_FAILED_AT]) > int(headers[naming.FIRST_FAILED_AT])
    assert naming.RETRY_DUE_AT not in headers
    assert dead.key == b"X"
