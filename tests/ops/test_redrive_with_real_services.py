"""Redrive end to end: two real services (runtime with policies) read one topic; one of them
dead-letters a key, the bug is fixed, and a redrive re-runs that service's handler only."""

from __future__ import annotations

import threading

import pytest

from conveyor import naming
from conveyor.ops import redrive
from conveyor.ops.broker import Broker
from conveyor.ops.deadletters import DeadLetterFilter, read_all
from conveyor.ops.topology import resolve
from conveyor.policies import Policies
from conveyor.retry import Backoff, RetryPolicy
from conveyor.runtime import Context, HandlerPolicy, Ordering, Service
from tests.conftest import TopicFactory
from tests.failures.support import create_side_topics, running_with
from tests.runtime.support import Ping, fast_settings, produce_pings, wait_until

pytestmark = pytest.mark.kafka

Calls = list[tuple[str, int, str]]


def _service(name: str, calls: Calls, broken: set[str]) -> Service:
    """An unordered service recording (key, seq, topic) per call; keys in `broken` fail."""
    service = Service(name)
    retry = RetryPolicy(attempts=2, backoff=Backoff(delay=0.1, max_delay=1))
    lock = threading.Lock()

    @service.handler(Ping, policy=HandlerPolicy(ordering=Ordering.UNORDERED, retry=retry))
    def handle(event: Ping, ctx: Context) -> None:
        with lock:
            calls.append((event.entity, event.seq, ctx.meta.topic))
        if event.entity in broken:
            raise ConnectionError("downstream down")

    return service


def test_redrive_reruns_only_the_target_services_handler_in_key_order_once(
    kafka_bootstrap: str, broker: Broker, new_topic: TopicFactory
) -> None:
    """Of X's and Y's dead letters, only X's are redriven: the email service handles X's two
    events again, in order, once each; Y stays dead; the other service never sees X again."""
    topic = new_topic(partitions=1)
    email_calls: Calls = []
    crm_calls: Calls = []
    broken = {"X", "Y"}
    email = _service(f"email-{topic}", email_calls, broken)
    crm = _service(f"crm-{topic}", crm_calls, set())
    for name in (email.name, crm.name):
        create_side_topics(kafka_bootstrap, name, tiers=1)
    settings = fast_settings(topic_map={Ping.TOPIC: topic})
    sent = produce_pings(kafka_bootstrap, topic, ["X", "Y", "a", "b"], per_key=2)
    with (
        running_with(email, kafka_bootstrap, settings, Policies(kafka_bootstrap)),
        running_with(crm, kafka_bootstrap, settings, Policies(kafka_bootstrap)),
    ):
        wait_until(lambda: len(_letters(broker, email.name)) == 4, what="4 dead letters")
        wait_until(lambda: len(crm_calls) == len(sent), what="crm handled everything")
        broken.clear()  # the bug is fixed
        handled_before = len(email_calls)
        topology = resolve(broker, email.name)
        plan = redrive.plan(broker, topology, DeadLetterFilter(key="X"))
        redrive.execute(broker, plan)
        wait_until(lambda: len(email_calls) >= handled_before + 2, what="the redriven events")

    again = email_calls[handled_before:]
    retry1 = naming.retry_topic(email.name, 1)
    assert plan.target == retry1
    assert again == [("X", 0, retry1), ("X", 1, retry1)]
    assert sorted(crm_calls) == sorted((p.entity, p.seq, topic) for p in sent)


def _letters(broker: Broker, service: str) -> list[object]:
    return list(read_all(broker, resolve(broker, service)))
