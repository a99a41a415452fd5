"""The parked-keys reader waits for a new topic's leaders instead of failing at startup."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from conveyor import naming
from conveyor.deadletter import ConfirmedWriter
from conveyor.parking import PARKED_TOPIC_CONFIG, ParkedKeyStore, leaders
from conveyor.parking.errors import ParkedKeysLoadError


def _failing(codes: list[int]) -> tuple[list[int], Callable[[], str]]:
    """A call failing with `codes` in turn, then answering; and the list of its calls."""
    calls: list[int] = []

    def call() -> str:
        calls.append(1)
        if len(calls) <= len(codes):
            raise KafkaException(KafkaError(codes[len(calls) - 1]))
        return "watermarks"

    return calls, call


def test_not_leader_yet_is_retried_until_the_partitions_have_leaders() -> None:
    """NOT_LEADER_FOR_PARTITION and LEADER_NOT_AVAILABLE are retried; the answer comes after."""
    calls, call = _failing([KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE])
    assert leaders.until_led(call, "s.parked", timeout=10) == "watermarks"
    assert len(calls) == 3


def test_leaders_still_missing_after_the_timeout_is_a_clear_error() -> None:
    """When leaders never come, the error names the topic and the wait, not a bare Kafka code."""
    _calls, call = _failing([KafkaError.NOT_LEADER_FOR_PARTITION] * 1000)
    with pytest.raises(ParkedKeysLoadError, match=r"s\.parked has partitions without a leader"):
        leaders.until_led(call, "s.parked", timeout=0.5)


def test_other_kafka_errors_are_not_retried() -> None:
    """An error that waiting cannot cure (authorization) fails at once, naming the topic."""
    calls, call = _failing([KafkaError.TOPIC_AUTHORIZATION_FAILED] * 5)
    with pytest.raises(ParkedKeysLoadError, match=r"reading s\.parked"):
        leaders.until_led(call, "s.parked", timeout=10)
    assert len(calls) == 1


@pytest.mark.kafka
def test_parked_keys_load_and_follow_right_after_the_topic_is_created(
    kafka_bootstrap: str,
) -> None:
    """A service starting just after `<service>.parked` was created loads and follows it, its
    caller waiting for no partition leader first (no NOT_LEADER_FOR_PARTITION reaches it)."""
    service = f"fresh-{uuid.uuid4().hex[:8]}"
    topic = naming.parked_topic(service)
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    created = admin.create_topics(
        [NewTopic(topic, num_partitions=6, replication_factor=1, config=PARKED_TOPIC_CONFIG)]
    )
    created[topic].result(timeout=30)
    writer = ConfirmedWriter(kafka_bootstrap)
    store = ParkedKeyStore(service, kafka_bootstrap, writer)
    try:
        store.follow()
        assert store.load([("orders", p) for p in range(6)]) == 0
    finally:
        store.close()
        writer.close()
