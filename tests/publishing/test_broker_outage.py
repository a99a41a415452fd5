"""Publisher with its broker stopped mid-stream: delivered once if it returns in time, a typed
error if it does not. Uses this package's private node so the shared broker stays up."""

from __future__ import annotations

import uuid

import pytest

from conveyor import naming
from conveyor.localkafka import LocalKafka
from conveyor.publish import DeliveryTimeoutError, Publisher, PublisherConfig
from shop_events import USER_TOPIC
from tests.conftest import create_topic
from tests.messages import headers_of
from tests.project import repo_codec
from tests.reading import read_until
from tests.samples import signup

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]


def test_events_published_during_an_outage_arrive_once_when_the_broker_returns(
    running_private_kafka: LocalKafka,
) -> None:
    """Events published before and while the broker is down are all delivered, each exactly
    once, when it comes back within the delivery timeout."""
    bootstrap = running_private_kafka.bootstrap_servers
    topic = create_topic(bootstrap, f"t-outage-returns-{uuid.uuid4().hex[:8]}", partitions=3)
    config = PublisherConfig(
        bootstrap_servers=bootstrap, topics={USER_TOPIC: topic}, delivery_timeout=120.0
    )
    with Publisher(config, repo_codec()) as publisher:
        before = [publisher.publish(signup(f"before-{i}")) for i in range(20)]
        for handle in before:
            handle.wait(60)
        running_private_kafka.node(1).stop()
        during = [publisher.publish(signup(f"during-{i}")) for i in range(20)]
        assert not any(h.done() for h in during)
        running_private_kafka.node(1).restart(timeout=120)
        for handle in during:
            handle.wait(120)

    messages = read_until(bootstrap, [topic], expect=40)
    ids = [headers_of(m)[naming.EVENT_ID].decode() for m in messages]
    assert sorted(ids) == sorted(h.event_id for h in before + during)


def test_broker_that_stays_down_fails_delivery_with_a_typed_error(
    running_private_kafka: LocalKafka,
) -> None:
    """With the broker stopped for longer than the delivery timeout, every pending delivery
    raises DeliveryTimeoutError instead of hanging."""
    bootstrap = running_private_kafka.bootstrap_servers
    topic = create_topic(bootstrap, f"t-outage-stays-down-{uuid.uuid4().hex[:8]}", partitions=3)
    config = PublisherConfig(
        bootstrap_servers=bootstrap, topics={USER_TOPIC: topic}, delivery_timeout=3.0
    )
    with Publisher(config, repo_codec()) as publisher:
        publisher.publish(signup("warm-up")).wait(60)
        running_private_kafka.node(1).stop()
        handles = [publisher.publish(signup(f"lost-{i}")) for i in range(5)]
        for handle in handles:
            with pytest.raises(DeliveryTimeoutError):
                handle.wait(60)
