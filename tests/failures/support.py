"""Helpers for the failure-policy scenarios: a service's side topics, running with policies,
and reading a topic back."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from confluent_kafka import Consumer, Producer, TopicPartition

from conveyor import naming
from conveyor.deadletter import SourceRecord
from conveyor.parking import PARKED_TOPIC_CONFIG
from conveyor.policies import Policies
from conveyor.retry import RetryPolicy
from conveyor.runtime import Context, HandlerPolicy, Service, ServiceSettings, run_service
from conveyor.runtime.context import NO_PUBLISHER, FollowUpPublisher
from conveyor.runtime.extension_seam import NO_EXTENSION
from conveyor.settings import Settings
from conveyor.typing import Codec
from tests.conftest import create_topic
from tests.reading import read_until
from tests.runtime.support import Ping, PingCodec, produce_pings, wait_until


def create_side_topics(
    bootstrap: str, service: str, tiers: int = 0, partitions: int = 1, redrive: bool = False
) -> None:
    """`<service>.dlq`, `<service>.parked` (compacted), `tiers` retry tiers and, with `redrive`,
    an ordered service's `<service>.redrive`."""
    create_topic(bootstrap, naming.dead_letter_topic(service), partitions)
    create_topic(bootstrap, naming.parked_topic(service), 1, config=PARKED_TOPIC_CONFIG)
    if redrive:
        create_topic(bootstrap, naming.redrive_topic(service), partitions)
    for tier in range(1, tiers + 1):
        create_topic(bootstrap, naming.retry_topic(service, tier), partitions)


@contextmanager
def running_with(
    service: Service,
    bootstrap: str,
    settings: ServiceSettings,
    policies: Policies | None,
    *,
    codec: Codec | None = None,
    publisher: FollowUpPublisher = NO_PUBLISHER,
) -> Iterator[threading.Event]:
    """Run `service` with `policies` (None: the runtime's defaults) in a background thread;
    stops it gracefully on exit. `codec`: Ping's unless given."""
    stop = threading.Event()
    result: list[int] = []
    env = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap}

    def run() -> None:
        code = run_service(
            service,
            Settings.from_env(env),
            settings,
            codec or PingCodec(),
            stop=stop,
            extension=policies or NO_EXTENSION,
            publisher=publisher,
        )
        result.append(code)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        # The runtime starts the policies after its first answer from the broker; the tests
        # look at their state (health, parked keys) from here on.
        wait_until(
            lambda: policies is None or hasattr(policies, "parking") or not thread.is_alive(),
            what="the policies to start",
        )
        yield stop
    finally:
        stop.set()
        thread.join(30)
        assert result == [0], "the service did not stop cleanly"


def read_all(bootstrap: str, topic: str, expect: int, timeout: float = 30.0) -> list[SourceRecord]:
    """At least `expect` records of `topic` from the beginning (all of them that came within
    a short quiet period after that), in partition-offset order. `timeout` bounds the time
    spent waiting for records, not reading them: a long topic is read to its end."""
    messages = read_until(bootstrap, topic, expect, timeout=timeout, settle=0.6)
    records = [SourceRecord.from_message(message) for message in messages]
    return sorted(records, key=lambda r: (r.partition, r.offset))


def fast_policy_settings(topic: str) -> ServiceSettings:
    """A service reading `topic` as Ping's topic, committing rarely (so a kill leaves
    handled-but-uncommitted events to redeliver)."""
    return ServiceSettings(
        http_port=None,
        commit_interval=2.0,
        shutdown_deadline=5.0,
        max_in_flight=8,
        topic_map={Ping.TOPIC: topic},
    )


def rewind_group(bootstrap: str, group: str, topic: str, partitions: int = 1) -> None:
    """Commit offset 0 for `group` on every partition of `topic` (the group must have no live
    member): the next run re-reads work already done, as after a lost commit."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        offsets = [TopicPartition(topic, p, 0) for p in range(partitions)]
        consumer.commit(offsets=offsets, asynchronous=False)
    finally:
        consumer.close()


POISON = b"\xff\xfe not avro"


def poison_then_ping(bootstrap: str, topic: str, handled: list[int]) -> Service:
    """A service (its side topics created) whose handler records the seqs of the pings it
    handles, and on `topic` poison bytes typed as a Ping, then one ping."""
    service = Service(f"s-{topic}")
    create_side_topics(bootstrap, service.name)

    @service.handler(Ping, policy=HandlerPolicy(retry=RetryPolicy(attempts=5)))
    def handle(event: Ping, ctx: Context) -> None:
        handled.append(event.seq)

    producer = Producer({"bootstrap.servers": bootstrap})
    typed: dict[str, str | bytes | None] = {naming.EVENT_TYPE: Ping.AVRO_NAME.encode()}
    producer.produce(topic, POISON, b"k", headers=typed)
    assert producer.flush(10) == 0
    produce_pings(bootstrap, topic, ["k"], per_key=1)
    return service
