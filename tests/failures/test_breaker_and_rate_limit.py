"""The dead-letter breaker stops a service that dead-letters everything; rate limits hold."""

from __future__ import annotations

import threading
import time

import pytest

from conveyor import naming
from conveyor.deadletter.breaker import BreakerPolicy
from conveyor.policies import Policies, PolicySettings
from conveyor.ratelimit import RateLimit
from conveyor.retry import PermanentError
from conveyor.runtime import Context, HandlerPolicy, Ordering, Service
from tests.conftest import TopicFactory
from tests.failures.support import create_side_topics, read_all, running_with
from tests.runtime.support import Ping, committed_offsets, fast_settings, produce_pings, wait_until

pytestmark = pytest.mark.kafka


def test_breaker_opens_on_a_burst_of_dead_letters_and_the_service_reports_not_ready(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """After five dead letters in a row the service dead-letters nothing more, commits nothing
    more, and is not ready."""
    topic = new_topic(partitions=1)
    service = Service(f"s-{topic}")
    create_side_topics(kafka_bootstrap, service.name)

    @service.handler(Ping, policy=HandlerPolicy(ordering=Ordering.UNORDERED))
    def broken_deploy(event: Ping, ctx: Context) -> None:
        raise PermanentError("NullPointerException, in Python")

    produce_pings(kafka_bootstrap, topic, [f"k{i}" for i in range(50)], per_key=1)
    breaker = BreakerPolicy(max_consecutive=5, window_s=60, min_outcomes=20)
    policies = Policies(kafka_bootstrap, PolicySettings(breaker=breaker))
    settings = fast_settings(topic_map={Ping.TOPIC: topic}, max_in_flight=1, shutdown_deadline=2.0)
    with running_with(service, kafka_bootstrap, settings, policies):
        wait_until(lambda: policies.breaker.is_open, what="the breaker to open")
        wait_until(
            lambda: committed_offsets(kafka_bootstrap, service.name, topic, 1) == {0: 5},
            what="the dead-lettered offsets committed",
        )
        assert not policies.health.ready
        assert "consecutive dead letters" in policies.health.blocked["dead-letter-breaker"]
        assert policies.metrics.breaker_open._value.get() == 1
        time.sleep(1.0)  # give a wrongly open breaker the chance to let more through
        assert committed_offsets(kafka_bootstrap, service.name, topic, 1) == {0: 5}
    assert len(read_all(kafka_bootstrap, naming.dead_letter_topic(service.name), 5)) == 5


def test_rate_limit_holds_within_ten_percent_over_ten_seconds(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """20 events per second: a 10 s window after the first event sees 200 +- 10% handled."""
    topic = new_topic(partitions=3)
    service = Service(f"s-{topic}")
    create_side_topics(kafka_bootstrap, service.name, partitions=3)
    handled_at: list[float] = []
    lock = threading.Lock()

    limit = RateLimit(max=20, duration=1.0)

    @service.handler(Ping, policy=HandlerPolicy(rate_limit=limit))
    def call_crm(event: Ping, ctx: Context) -> None:
        with lock:
            handled_at.append(time.monotonic())

    produce_pings(kafka_bootstrap, topic, [f"k{i}" for i in range(100)], per_key=3)
    policies = Policies(kafka_bootstrap)
    with running_with(
        service, kafka_bootstrap, fast_settings(topic_map={Ping.TOPIC: topic}), policies
    ):
        wait_until(lambda: len(handled_at) >= 230, timeout=60, what="11.5 s of limited handling")
        limited = sum(
            sample.value
            for metric in policies.metrics.rate_limited.collect()
            for sample in metric.samples
            if sample.name.endswith("_total")
        )
        share = policies.metrics.rate_limit_share.labels(service.name, Ping.AVRO_NAME)
        assert share._value.get() == 20, "a lone member owns every partition: the whole limit"
    start = handled_at[0]
    in_window = sum(1 for t in handled_at if start <= t < start + 10.0)
    assert 180 <= in_window <= 220
    assert limited > 0, "the limiter's pauses are visible in the metrics"
