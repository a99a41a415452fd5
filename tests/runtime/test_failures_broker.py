"""The failure seam against a real broker: in-place retries, fatal failures, poison messages."""

from __future__ import annotations

import asyncio
import threading

import pytest
from confluent_kafka import Producer

from conveyor import naming
from conveyor.publish.message import Headers
from conveyor.runtime import Context, Failure, Fatal, Forwarded, Outcome, Service
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


def test_failing_key_is_retried_in_place_while_other_keys_flow_and_nothing_passes_it(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """A key whose handler keeps failing waits (retried in place) while other keys of its
    partition finish, and the committed offset never passes the failing event."""
    topic = new_topic(partitions=1)
    service = Service(f"retry-{topic}")
    healed = threading.Event()
    handled: list[tuple[str, int]] = []
    attempts: list[int] = []

    @service.handler(Ping)
    async def handle(event: Ping, ctx: Context) -> None:
        if event.entity == "bad":
            if event.seq == 0:
                attempts.append(ctx.attempt)
            if not healed.is_set():
                raise RuntimeError("downstream unavailable")
        handled.append((event.entity, event.seq))

    produce_pings(kafka_bootstrap, topic, ["bad"], per_key=2)
    produce_pings(kafka_bootstrap, topic, ["a", "b", "c"], per_key=3)
    with running(service, kafka_bootstrap, fast_settings(topic_map={Ping.TOPIC: topic})):
        wait_until(lambda: len(handled) == 9 and len(attempts) >= 3, what="the other keys")
        assert committed_offsets(kafka_bootstrap, service.name, topic, 1)[0] < 1
        healed.set()
        wait_until(lambda: len(handled) == 11, what="the healed key")
        wait_until(
            lambda: committed_offsets(kafka_bootstrap, service.name, topic, 1) == {0: 11},
            what="the final commit",
        )
    assert [seq for key, seq in handled if key == "bad"] == [0, 1]
    assert attempts == list(range(1, len(attempts) + 1))


class StopOnFailure:
    def __init__(self) -> None:
        self.failures: list[Failure] = []

    def on_failure(self, failure: Failure) -> Outcome:
        self.failures.append(failure)
        return Fatal("a test says stop")


def test_fatal_failure_stops_the_service_without_committing_the_event(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """When the failure seam answers Fatal, the service exits 1 and commits only what came
    before the failed event."""
    topic = new_topic(partitions=1)
    service = Service(f"fatal-{topic}")

    @service.handler(Ping)
    def handle(event: Ping, ctx: Context) -> None:
        if event.seq == 3:
            raise ValueError("cannot handle this one")

    produce_pings(kafka_bootstrap, topic, ["k"], per_key=6)
    seam = StopOnFailure()
    settings = fast_settings(topic_map={Ping.TOPIC: topic})
    with running(service, kafka_bootstrap, settings, failures=seam, exit_code=1) as result:
        wait_until(lambda: bool(result), what="the service to stop by itself")
    assert committed_offsets(kafka_bootstrap, service.name, topic, 1) == {0: 3}
    assert [f.meta.offset for f in seam.failures] == [3]
    assert isinstance(seam.failures[0].error, ValueError)


class ForwardEverything:
    def __init__(self) -> None:
        self.failures: list[Failure] = []

    def on_failure(self, failure: Failure) -> Outcome:
        self.failures.append(failure)
        return Forwarded(asyncio.sleep(0))


def test_undecodable_message_goes_through_the_failure_seam_and_its_forwarding_completes_it(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """Bytes that do not decode never reach the handler: the seam receives them with their raw
    value, and once it reports them forwarded their offset is committed."""
    topic = new_topic(partitions=1)
    service = Service(f"poison-{topic}")
    handled: list[int] = []

    @service.handler(Ping)
    def handle(event: Ping, ctx: Context) -> None:
        handled.append(event.seq)

    produce_pings(kafka_bootstrap, topic, ["k"], per_key=1)
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    header: Headers = [(naming.EVENT_TYPE, Ping.AVRO_NAME.encode())]
    producer.produce(topic, b"\xff\x00not avro", b"k", headers=header)
    producer.flush(10)
    produce_pings(kafka_bootstrap, topic, ["k"], per_key=1)
    seam = ForwardEverything()
    with running(
        service, kafka_bootstrap, fast_settings(topic_map={Ping.TOPIC: topic}), failures=seam
    ):
        wait_until(
            lambda: committed_offsets(kafka_bootstrap, service.name, topic, 1) == {0: 3},
            what="all three offsets committed",
        )
    assert handled == [0, 0]
    assert len(seam.failures) == 1
    assert seam.failures[0].undecodable
    assert seam.failures[0].raw_value == b"\xff\x00not avro"
    assert seam.failures[0].raw_key == b"k"
    assert seam.failures[0].meta.offset == 1
