"""A key retrying in place holds its partition's commit position, not its partition."""

from __future__ import annotations

import threading

import pytest
from confluent_kafka import OFFSET_INVALID

from conveyor import naming
from conveyor.policies import Policies
from conveyor.retry import Backoff, RetryPolicy
from conveyor.runtime import Context, HandlerPolicy, Ordering, Service
from tests.conftest import TopicFactory
from tests.failures.support import create_side_topics, read_all, running_with
from tests.runtime.support import Ping, committed_offsets, fast_settings, produce_pings, wait_until

pytestmark = pytest.mark.kafka

# The second attempt is a minute away: the scenario ends long before it is due.
SLOW_RETRY = RetryPolicy(attempts=2, backoff=Backoff(delay=60.0, jitter=0.0))


def test_a_key_waiting_for_its_retry_does_not_stop_its_partition_fetching_other_keys(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """Key A's first event fails and waits a minute for its retry; the partition's other keys,
    more than a poll's batch and twenty times its pending bound, are all handled meanwhile,
    each in order, while A's later events wait behind it and the commit does not pass A."""
    topic = new_topic(partitions=1)
    service = Service(f"s-{topic}")
    create_side_topics(kafka_bootstrap, service.name)
    handled: list[tuple[str, int]] = []
    a_calls: list[int] = []
    lock = threading.Lock()

    @service.handler(Ping, policy=HandlerPolicy(ordering=Ordering.ORDERED, retry=SLOW_RETRY))
    def charge(event: Ping, ctx: Context) -> None:
        if event.entity == "A":
            a_calls.append(event.seq)
            raise ConnectionError("payment gateway down")
        with lock:
            handled.append((event.entity, event.seq))

    produce_pings(kafka_bootstrap, topic, ["A"], per_key=1)
    others = [f"k{i}" for i in range(100)]
    sent = produce_pings(kafka_bootstrap, topic, [*others, "A"], per_key=8)
    healthy = [p for p in sent if p.entity != "A"]
    settings = fast_settings(
        topic_map={Ping.TOPIC: topic}, max_pending_per_partition=40, shutdown_deadline=1.0
    )
    with running_with(service, kafka_bootstrap, settings, Policies(kafka_bootstrap)):
        wait_until(lambda: len(handled) == len(healthy), what="every other key's events")
        assert a_calls == [0], "A's later events wait behind its failed one"
        assert committed_offsets(kafka_bootstrap, service.name, topic, 1) == {0: OFFSET_INVALID}
    for key in others:
        assert [seq for k, seq in handled if k == key] == list(range(8))
    assert read_all(kafka_bootstrap, naming.dead_letter_topic(service.name), 0, timeout=1) == []


def test_keys_waiting_for_retries_beyond_the_concurrency_bound_do_not_starve_the_others(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """Three keys fail and wait a minute for their retries with only two handler slots: every
    other key's events are still handled meanwhile (the waiting keys hold no slot)."""
    topic = new_topic(partitions=1)
    service = Service(f"s-{topic}")
    create_side_topics(kafka_bootstrap, service.name)
    handled: list[str] = []
    failed: list[str] = []

    @service.handler(Ping, policy=HandlerPolicy(ordering=Ordering.ORDERED, retry=SLOW_RETRY))
    async def charge(event: Ping, ctx: Context) -> None:
        if event.entity in {"A", "B", "C"}:
            failed.append(event.entity)
            raise ConnectionError("payment gateway down")
        handled.append(event.entity)

    produce_pings(kafka_bootstrap, topic, ["A", "B", "C"], per_key=1)
    sent = produce_pings(kafka_bootstrap, topic, [f"k{i}" for i in range(20)], per_key=5)
    settings = fast_settings(topic_map={Ping.TOPIC: topic}, max_in_flight=2, shutdown_deadline=1.0)
    with running_with(service, kafka_bootstrap, settings, Policies(kafka_bootstrap)):
        wait_until(lambda: len(handled) == len(sent), what="every other key's events")
        assert sorted(failed) == ["A", "B", "C"], "each tried once, waiting for its retry"
