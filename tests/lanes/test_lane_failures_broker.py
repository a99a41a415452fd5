"""A laned service's failures keep their lane: an urgent event that fails goes through the retry
tier and to the dead letters with its `x-lane` header and its lane's topic as origin, and a
redrive hands it back to the service still marked urgent."""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import pytest
from typer.testing import CliRunner

from conveyor import naming
from conveyor.cli.main import cli
from conveyor.ops import redrive
from conveyor.ops.broker import Broker
from conveyor.ops.deadletters import DeadLetterFilter
from conveyor.ops.topology import ServiceTopology
from conveyor.policies import Policies
from conveyor.publish import Publisher, PublisherConfig
from conveyor.retry import Backoff, RetryPolicy
from conveyor.runtime import Context, HandlerPolicy, Ordering, Service, run_service
from conveyor.settings import Settings
from tests.failures.support import create_side_topics, read_all
from tests.lanes.support import LanedTopic
from tests.runtime.support import Ping, PingCodec, fast_settings, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(120)]


def test_a_failed_urgent_event_keeps_its_lane_through_retry_dead_letter_and_redrive(
    kafka_bootstrap: str,
) -> None:
    laned = LanedTopic.create(kafka_bootstrap, f"t-lanefail-{uuid.uuid4().hex[:8]}", 1)
    service = Service(f"s-{laned.base}")
    create_side_topics(kafka_bootstrap, service.name, tiers=1)
    broken = threading.Event()
    broken.set()
    seen: list[tuple[str, bytes | None]] = []
    retry = RetryPolicy(attempts=2, backoff=Backoff(delay=0.2, max_delay=1))

    @service.handler(Ping, policy=HandlerPolicy(ordering=Ordering.UNORDERED, retry=retry))
    def send(event: Ping, ctx: Context) -> None:
        seen.append((ctx.meta.topic, ctx.meta.header(naming.LANE)))
        if broken.is_set():
            raise ConnectionError("smtp down")

    config = PublisherConfig(
        bootstrap_servers=kafka_bootstrap,
        topics={Ping.TOPIC: laned.base},
        lanes={Ping.TOPIC: laned.lanes},
    )
    with Publisher(config, PingCodec()) as publisher:
        publisher.publish(Ping(entity="X"), lane="high").wait(30)

    stop = threading.Event()
    settings = fast_settings(topic_map={Ping.TOPIC: laned.base})
    base = Settings.from_env({"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap})
    thread = threading.Thread(
        target=run_service,
        args=(service, base, settings, PingCodec()),
        kwargs={
            "stop": stop,
            "extension": Policies(kafka_bootstrap),
            "lanes": {Ping.TOPIC: laned.lanes},
        },
        daemon=True,
    )
    thread.start()
    try:
        dlq = naming.dead_letter_topic(service.name)
        [letter] = read_all(kafka_bootstrap, dlq, 1)
        assert letter.header(naming.LANE) == b"high"
        assert letter.header(naming.ORIGINAL_TOPIC) == laned.topic("high").encode()

        broken.clear()
        broker = Broker.connect(kafka_bootstrap)
        topology = ServiceTopology(
            service=service.name,
            inputs=laned.lanes.topics(laned.base),
            retry_topics=(naming.retry_topic(service.name, 1),),
            dead_letter_topic=dlq,
        )
        assert [x["lane"] for x in _dlq_list(kafka_bootstrap, service.name, "high")] == ["high"]
        assert _dlq_list(kafka_bootstrap, service.name, "low") == []
        assert redrive.execute(broker, redrive.plan(broker, topology, DeadLetterFilter())) == 1
        wait_until(lambda: len(seen) == 3, what="the redriven event handled")
    finally:
        stop.set()
        thread.join(30)
    tier = naming.retry_topic(service.name, 1)
    assert seen == [(laned.topic("high"), b"high"), (tier, b"high"), (tier, b"high")]


def _dlq_list(bootstrap: str, service: str, lane: str) -> list[dict[str, Any]]:
    """`conveyor dlq list SERVICE --lane LANE --json`."""
    args = ["dlq", "list", service, "--lane", lane, "--json"]
    result = CliRunner().invoke(cli, args, env={"KAFKA_BOOTSTRAP_SERVERS": bootstrap})
    assert result.exit_code == 0, result.output
    found: list[dict[str, Any]] = json.loads(result.stdout)
    return found
