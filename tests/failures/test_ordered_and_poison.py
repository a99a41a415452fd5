"""Ordered handlers retry in place, dead-letter and park keys; poison is dead-lettered at once."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from conveyor import naming
from conveyor.deadletter import ConfirmedWriter
from conveyor.parking import ParkedKeyStore
from conveyor.policies import Policies
from conveyor.retry import Backoff, PermanentError, RetryPolicy
from conveyor.runtime import Context, HandlerPolicy, Ordering, Service
from tests.conftest import TopicFactory
from tests.failures.support import (
    POISON,
    create_side_topics,
    poison_then_ping,
    read_all,
    running_with,
)
from tests.runtime.support import Ping, committed_offsets, fast_settings, produce_pings, wait_until

pytestmark = pytest.mark.kafka

FAST_RETRY = RetryPolicy(attempts=3, backoff=Backoff(delay=0.3, max_delay=1.0))


def test_handler_failing_twice_then_succeeding_is_retried_after_each_backoff(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """Two failures then success: three attempts spaced by the backoff, committed, no DLQ."""
    topic = new_topic(partitions=1)
    service = Service(f"s-{topic}")
    create_side_topics(kafka_bootstrap, service.name)
    attempts: list[tuple[int, float]] = []

    @service.handler(Ping, policy=HandlerPolicy(ordering=Ordering.ORDERED, retry=FAST_RETRY))
    def flaky(event: Ping, ctx: Context) -> None:
        attempts.append((ctx.attempt, time.monotonic()))
        if ctx.attempt < 3:
            raise ConnectionError("downstream hiccup")

    produce_pings(kafka_bootstrap, topic, ["k"], per_key=1)
    policies = Policies(kafka_bootstrap)
    with running_with(
        service, kafka_bootstrap, fast_settings(topic_map={Ping.TOPIC: topic}), policies
    ):
        wait_until(
            lambda: committed_offsets(kafka_bootstrap, service.name, topic, 1) == {0: 1},
            what="the commit after the third attempt",
        )
    assert [n for n, _ in attempts] == [1, 2, 3]
    gaps = [later - earlier for (_, earlier), (_, later) in itertools.pairwise(attempts)]
    assert gaps[0] >= 0.3
    assert gaps[1] >= 0.6  # exponential: twice the first backoff
    assert read_all(kafka_bootstrap, naming.dead_letter_topic(service.name), 0, timeout=2) == []


def _declining_key_a(name: str, handled: list[tuple[str, int]]) -> Service:
    """An ordered service that fails for good on key A and records (key, seq) of the others."""
    service = Service(name)
    lock = threading.Lock()

    @service.handler(Ping, policy=HandlerPolicy(ordering=Ordering.ORDERED, retry=FAST_RETRY))
    def charge(event: Ping, ctx: Context) -> None:
        if event.entity == "A":
            raise PermanentError("card declined")
        with lock:
            handled.append((event.entity, event.seq))

    return service


def test_a_failing_key_is_dead_lettered_and_parked_while_other_keys_flow(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """Key A fails for good: A's events land in the dead letters in order, with every header;
    keys B..Z are all handled in order; after a restart A is still parked."""
    topic = new_topic(partitions=1)
    handled: list[tuple[str, int]] = []
    service = _declining_key_a(f"s-{topic}", handled)
    create_side_topics(kafka_bootstrap, service.name)

    others = [chr(c) for c in range(ord("B"), ord("Z") + 1)]
    sent = produce_pings(kafka_bootstrap, topic, ["A", *others], per_key=3)
    settings = fast_settings(topic_map={Ping.TOPIC: topic})
    with running_with(service, kafka_bootstrap, settings, Policies(kafka_bootstrap)):
        wait_until(
            lambda: committed_offsets(kafka_bootstrap, service.name, topic, 1) == {0: len(sent)},
            what="every offset committed",
        )
    for key in others:
        assert [seq for k, seq in handled if k == key] == [0, 1, 2]
    dead = read_all(kafka_bootstrap, naming.dead_letter_topic(service.name), 3)
    a_ids = [str(p.event_id).encode() for p in sent if p.entity == "A"]
    assert [dict(r.headers)[naming.EVENT_TYPE] for r in dead] == [Ping.AVRO_NAME.encode()] * 3
    assert [r.key for r in dead] == [b"A"] * 3
    first, *followers = [dict(r.headers) for r in dead]
    assert set(naming.DEAD_LETTER_HEADERS) <= set(first)
    assert first[naming.ORIGINAL_TOPIC] == topic.encode()
    assert first[naming.ERROR_TYPE] == b"conveyor.retry.errors.PermanentError"
    assert first[naming.ERROR_MESSAGE] == b"card declined"
    assert first[naming.CONSUMER_GROUP] == service.name.encode()
    assert naming.PARKED_BEHIND not in first
    offsets = [int(h[naming.ORIGINAL_OFFSET]) for h in [first, *followers]]
    assert offsets == sorted(offsets), "A's dead letters are in A's order"
    for follower in followers:
        assert set(naming.DEAD_LETTER_HEADERS) <= set(follower)
        assert follower[naming.PARKED_BEHIND] == a_ids[0]

    late = produce_pings(kafka_bootstrap, topic, ["A", "B"], per_key=1)
    handled.clear()
    with running_with(service, kafka_bootstrap, settings, Policies(kafka_bootstrap)):
        wait_until(
            lambda: (
                committed_offsets(kafka_bootstrap, service.name, topic, 1)
                == {0: len(sent) + len(late)}
            ),
            what="the events produced after the restart",
        )
    assert handled == [("B", 0)], "A's new event must not run: A is still parked"
    dead = read_all(kafka_bootstrap, naming.dead_letter_topic(service.name), 4)
    assert dict(dead[-1].headers)[naming.PARKED_BEHIND] == a_ids[0]


def test_poison_bytes_are_dead_lettered_at_once_and_the_next_event_is_handled(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """Bytes no codec can read go to the dead letters untouched, without retries."""
    topic = new_topic(partitions=1)
    handled: list[int] = []
    service = poison_then_ping(kafka_bootstrap, topic, handled)
    with running_with(
        service,
        kafka_bootstrap,
        fast_settings(topic_map={Ping.TOPIC: topic}),
        Policies(kafka_bootstrap),
    ):
        wait_until(
            lambda: committed_offsets(kafka_bootstrap, service.name, topic, 1) == {0: 2},
            what="both offsets committed",
        )
    assert handled == [0]
    [dead] = read_all(kafka_bootstrap, naming.dead_letter_topic(service.name), 1)
    headers = dict(dead.headers)
    assert dead.value == POISON
    assert headers[naming.ATTEMPTS] == b"1"
    assert headers[naming.ORIGINAL_OFFSET] == b"0"
    assert headers[naming.ERROR_MESSAGE]


def test_an_offset_is_committed_only_after_its_dead_letter_is_confirmed(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """While the dead-letter topic cannot take the record the offset stays uncommitted; once
    the write is confirmed, it commits."""
    topic = new_topic(partitions=1)
    service = Service(f"s-{topic}")
    calls: list[int] = []

    @service.handler(Ping, policy=HandlerPolicy(ordering=Ordering.UNORDERED))
    def reject(event: Ping, ctx: Context) -> None:
        calls.append(event.seq)
        raise PermanentError("bad input")

    produce_pings(kafka_bootstrap, topic, ["k"], per_key=1)
    settings = fast_settings(topic_map={Ping.TOPIC: topic})
    with running_with(service, kafka_bootstrap, settings, Policies(kafka_bootstrap)):
        wait_until(lambda: calls == [0], what="the failed attempt")
        time.sleep(1.0)  # several commit intervals pass with the dead letter unconfirmed
        assert committed_offsets(kafka_bootstrap, service.name, topic, 1)[0] < 0
        create_side_topics(kafka_bootstrap, service.name)
        wait_until(
            lambda: committed_offsets(kafka_bootstrap, service.name, topic, 1) == {0: 1},
            what="the commit after the confirmed dead letter",
        )
    [dead] = read_all(kafka_bootstrap, naming.dead_letter_topic(service.name), 1)
    assert dead.key == b"k"


def _committed_total(bootstrap: str, group: str, topic: str) -> int:
    """Events committed over both partitions (a partition with no commit counts 0)."""
    return sum(max(0, offset) for offset in committed_offsets(bootstrap, group, topic, 2).values())


def test_a_parked_key_stays_parked_when_its_partition_moves_to_another_instance(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """Instance 1 parks key A; instance 2 joins, instance 1 leaves: instance 2 now owns A's
    partition (a rebalance, no restart) and sends A's next event after the first."""
    topic = new_topic(partitions=2)
    handled: list[tuple[str, int]] = []
    service = _declining_key_a(f"s-{topic}", handled)
    create_side_topics(kafka_bootstrap, service.name, partitions=2)

    first_batch = produce_pings(kafka_bootstrap, topic, ["A", "B", "C"], per_key=1)
    settings = fast_settings(topic_map={Ping.TOPIC: topic})
    dlq = naming.dead_letter_topic(service.name)
    second = Policies(kafka_bootstrap)
    with running_with(service, kafka_bootstrap, settings, Policies(kafka_bootstrap)) as first:
        wait_until(lambda: len(read_all(kafka_bootstrap, dlq, 1, timeout=1)) == 1, what="A parked")
        with running_with(service, kafka_bootstrap, settings, second):
            wait_until(lambda: second.health.ready, what="instance 2 to join with a partition")
            first.set()  # instance 1 leaves; its partitions move to the live instance 2
            wait_until(lambda: len(second.parking.keys) == 1, what="instance 2 to load A's park")
            late = produce_pings(kafka_bootstrap, topic, ["A", "B"], per_key=1)
            wait_until(
                lambda: (
                    _committed_total(kafka_bootstrap, service.name, topic)
                    == len(first_batch) + len(late)
                ),
                what="the late events committed",
            )
    assert [k for k, _ in handled].count("A") == 0
    assert [k for k, _ in handled].count("B") >= 2
    dead = read_all(kafka_bootstrap, dlq, 2)
    first_id = str(first_batch[0].event_id).encode()
    assert dict(dead[-1].headers)[naming.PARKED_BEHIND] == first_id


def test_a_released_key_flows_again_without_a_restart(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """An operator's release (a tombstone on `<service>.parked`) unparks the key in the running
    service: the key's next event is handled."""
    topic = new_topic(partitions=1)
    service = Service(f"s-{topic}")
    create_side_topics(kafka_bootstrap, service.name)
    handled: list[str] = []
    [poisoned] = produce_pings(kafka_bootstrap, topic, ["A"], per_key=1)

    @service.handler(Ping, policy=HandlerPolicy(ordering=Ordering.ORDERED, retry=FAST_RETRY))
    def charge(event: Ping, ctx: Context) -> None:
        if event.event_id == poisoned.event_id:
            raise PermanentError("card declined")
        handled.append(event.entity)

    policies = Policies(kafka_bootstrap)
    settings = fast_settings(topic_map={Ping.TOPIC: topic})
    with running_with(service, kafka_bootstrap, settings, policies):
        wait_until(
            lambda: hasattr(policies, "parking") and len(policies.parking.keys) == 1,
            what="A parked",
        )
        operator = ConfirmedWriter(kafka_bootstrap)
        try:
            store = ParkedKeyStore(service.name, kafka_bootstrap, operator)
            store.release(topic, 0, b"A").result(timeout=15)
        finally:
            operator.close()
        wait_until(lambda: len(policies.parking.keys) == 0, what="the release to arrive")
        produce_pings(kafka_bootstrap, topic, ["A"], per_key=1)
        wait_until(lambda: handled == ["A"], what="A's next event handled")
