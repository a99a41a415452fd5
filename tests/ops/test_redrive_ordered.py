"""Redrive of an ordered service end to end: a real runtime with policies parks a key, the bug is
fixed, `redrive` (the operations API) sends the key's dead letters to `<service>.redrive`, and
the key's events run once each, in their original order, before the key is released."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from confluent_kafka import Producer

from conveyor import naming
from conveyor.ops import redrive
from conveyor.ops.broker import Broker
from conveyor.ops.compacted import read_table
from conveyor.ops.deadletters import DeadLetterFilter, read_all
from conveyor.ops.topology import resolve
from conveyor.parking import ParkedKey
from conveyor.policies import Policies
from conveyor.retry import Backoff, PermanentError, RetryPolicy
from conveyor.runtime import Context, HandlerPolicy, Ordering, Service
from tests.conftest import TopicFactory
from tests.failures.support import create_side_topics, running_with
from tests.runtime.support import Ping, PingCodec, fast_settings, produce_pings, wait_until

pytestmark = pytest.mark.kafka

Calls = list[tuple[str, int, str]]
OTHERS = ["B", "C", "D"]


class Handler:
    """An ordered handler recording each success as (key, seq, topic); keys in `broken` fail
    for good; the redriven event with seq `block_seq` waits for `go` once it started."""

    def __init__(self, broken: set[str]) -> None:
        self.calls: Calls = []
        self.broken = broken
        self.block_seq: int | None = None
        self.started = threading.Event()
        self.go = threading.Event()
        self._lock = threading.Lock()

    def service(self, name: str) -> Service:
        service = Service(name)
        retry = RetryPolicy(attempts=2, backoff=Backoff(delay=0.1, max_delay=1))

        @service.handler(Ping, policy=HandlerPolicy(ordering=Ordering.ORDERED, retry=retry))
        def handle(event: Ping, ctx: Context) -> None:
            if event.entity in self.broken:
                raise PermanentError("the bug")
            if ctx.meta.topic == naming.redrive_topic(name) and event.seq == self.block_seq:
                self.started.set()
                self.go.wait(30)
            with self._lock:
                self.calls.append((event.entity, event.seq, ctx.meta.topic))

        return service

    def of(self, key: str) -> list[tuple[int, str]]:
        with self._lock:
            return [(seq, topic) for k, seq, topic in self.calls if k == key]


def test_redriven_parked_key_runs_its_events_once_in_order_before_new_ones(
    kafka_bootstrap: str, broker: Broker, new_topic: TopicFactory
) -> None:
    """A's first event fails for good and A parks, its later events follow into the dead
    letters; after the fix, a redrive runs A's three events once each in order, an A event
    arriving on the topic meanwhile waits for them, the key is released, and B..D are
    untouched."""
    topic = new_topic(partitions=3)
    handler = Handler(broken={"A"})
    service = handler.service(f"pay-{topic}")
    create_side_topics(kafka_bootstrap, service.name, partitions=3, redrive=True)
    produce_pings(kafka_bootstrap, topic, ["A", *OTHERS], per_key=3)
    policies = Policies(kafka_bootstrap)
    settings = fast_settings(topic_map={Ping.TOPIC: topic})
    redrive_topic = naming.redrive_topic(service.name)
    with running_with(service, kafka_bootstrap, settings, policies):
        wait_until(lambda: len(_letters(broker, service.name)) == 3, what="A's 3 dead letters")
        wait_until(lambda: all(len(handler.of(k)) == 3 for k in OTHERS), what="B..D handled")
        handler.broken.clear()  # the bug is fixed
        handler.block_seq = 0
        plan = redrive.plan(broker, resolve(broker, service.name), DeadLetterFilter(key="A"))
        # One event a second, one transaction each: A's later redriven events and the
        # tombstone come after the new A event below.
        slowly = redrive.RedriveOptions(rate=1.0, batch=1)
        run = threading.Thread(target=redrive.execute, args=(broker, plan, slowly))
        run.start()
        assert handler.started.wait(30), "the first redriven event never ran"
        _produce(kafka_bootstrap, topic, "A", seq=3)  # arrives while A's redrive is under way
        time.sleep(1.0)  # let the consumer fetch it while the redriven event is still blocked
        handler.go.set()
        run.join(30)
        wait_until(lambda: len(handler.of("A")) == 4, what="A's four events")
        wait_until(lambda: not policies.parking.keys.all(), what="A released")
        _produce(kafka_bootstrap, topic, "A", seq=4)
        wait_until(lambda: len(handler.of("A")) == 5, what="A's event after the release")

    assert plan.target == redrive_topic
    assert handler.of("A") == [
        (0, redrive_topic),
        (1, redrive_topic),
        (2, redrive_topic),
        (3, topic),
        (4, topic),
    ]
    assert all(handler.of(k) == [(0, topic), (1, topic), (2, topic)] for k in OTHERS)
    assert len(_letters(broker, service.name)) == 3  # nothing more was dead-lettered
    assert read_table(broker, naming.parked_topic(service.name)) == {}


def test_events_dead_lettered_after_the_redrive_was_planned_keep_the_key_parked(
    kafka_bootstrap: str, broker: Broker, new_topic: TopicFactory
) -> None:
    """An A event dead-lettered between a redrive's plan and its run is not in that redrive:
    the redriven events run, the key stays parked (A's newest event never overtakes), and a
    second redrive runs that event and releases the key."""
    topic = new_topic(partitions=1)
    handler = Handler(broken={"A"})
    service = handler.service(f"inv-{topic}")
    create_side_topics(kafka_bootstrap, service.name, redrive=True)
    produce_pings(kafka_bootstrap, topic, ["A", "B"], per_key=2)
    policies = Policies(kafka_bootstrap)
    settings = fast_settings(topic_map={Ping.TOPIC: topic})
    redrive_topic = naming.redrive_topic(service.name)
    with running_with(service, kafka_bootstrap, settings, policies):
        wait_until(lambda: len(_letters(broker, service.name)) == 2, what="A's 2 dead letters")
        handler.broken.clear()
        topology = resolve(broker, service.name)
        first = redrive.plan(broker, topology, DeadLetterFilter(key="A"))
        _produce(kafka_bootstrap, topic, "A", seq=2)
        wait_until(lambda: len(_letters(broker, service.name)) == 3, what="A's 3rd dead letter")
        redrive.execute(broker, first)
        wait_until(lambda: len(handler.of("A")) == 2, what="the first redrive's events")
        wait_until(lambda: _parked_anew(policies.parking.keys.all()), what="A parked again")
        handled_after_first = handler.of("A")
        second = redrive.plan(broker, topology, DeadLetterFilter(key="A"))
        redrive.execute(broker, second)
        wait_until(lambda: len(handler.of("A")) == 3, what="the second redrive's event")
        wait_until(lambda: not policies.parking.keys.all(), what="A released")

    assert handled_after_first == [(0, redrive_topic), (1, redrive_topic)]
    assert handler.of("A") == [(0, redrive_topic), (1, redrive_topic), (2, redrive_topic)]
    assert handler.of("B") == [(0, topic), (1, topic)]
    assert [x.letter for x in (*first.skipped, *second.skipped)] == []
    assert len(second.letters) == 1
    assert read_table(broker, naming.parked_topic(service.name)) == {}


def test_a_redrive_run_while_the_service_is_stopped_keeps_order_after_the_restart(
    kafka_bootstrap: str, broker: Broker, new_topic: TopicFactory
) -> None:
    """Stop, fix, redrive, start: the restarted service loads A as parked until its redriven
    events are done, so A's event that waited on the topic meanwhile runs after them."""
    topic = new_topic(partitions=1)
    handler = Handler(broken={"A"})
    service = handler.service(f"ful-{topic}")
    create_side_topics(kafka_bootstrap, service.name, redrive=True)
    produce_pings(kafka_bootstrap, topic, ["A", "B"], per_key=2)
    settings = fast_settings(topic_map={Ping.TOPIC: topic})
    redrive_topic = naming.redrive_topic(service.name)
    with running_with(service, kafka_bootstrap, settings, Policies(kafka_bootstrap)):
        wait_until(lambda: len(_letters(broker, service.name)) == 2, what="A's 2 dead letters")
        wait_until(lambda: len(handler.of("B")) == 2, what="B handled")
    handler.broken.clear()
    _produce(kafka_bootstrap, topic, "A", seq=2)  # waits on the topic while the service is down
    plan = redrive.plan(broker, resolve(broker, service.name), DeadLetterFilter(key="A"))
    redrive.execute(broker, plan)
    policies = Policies(kafka_bootstrap)
    with running_with(service, kafka_bootstrap, settings, policies):
        wait_until(lambda: len(handler.of("A")) == 3, what="A's three events")
        wait_until(lambda: not policies.parking.keys.all(), what="A released")

    assert handler.of("A") == [(0, redrive_topic), (1, redrive_topic), (2, topic)]
    assert handler.of("B") == [(0, topic), (1, topic)]
    assert read_table(broker, naming.parked_topic(service.name)) == {}


def _parked_anew(parked: list[ParkedKey]) -> bool:
    return len(parked) == 1 and not parked[0].releasing and parked[0].diverted_through >= 0


def _produce(bootstrap: str, topic: str, key: str, seq: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random"})
    headers: Any = [(naming.EVENT_TYPE, Ping.AVRO_NAME.encode())]
    value = PingCodec().encode(Ping(entity=key, seq=seq))
    producer.produce(topic, key=key.encode(), value=value, headers=headers)
    assert producer.flush(30) == 0


def _letters(broker: Broker, service: str) -> list[object]:
    return list(read_all(broker, resolve(broker, service)))
