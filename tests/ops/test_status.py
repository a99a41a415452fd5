"""`conveyor status` counts, read from the broker against known backlogs."""

from __future__ import annotations

import json
import time

import pytest
from typer.testing import CliRunner

from conveyor.cli.main import cli
from conveyor.clients.errors import BrokerUnreachableError
from conveyor.ops import status
from conveyor.ops.broker import Broker
from conveyor.ops.errors import UnknownServiceError
from conveyor.ops.topology import resolve
from tests.ops.conftest import Svc

pytestmark = pytest.mark.kafka


def _backlog(svc: Svc, produced: int, handled: int, base_ms: int) -> str:
    """`produced` events per partition of a 2-partition input, `handled` of them committed."""
    topic = svc.topic("input", partitions=2)
    for partition in (0, 1):
        for i in range(produced):
            ts = base_ms + partition * 100_000 + i * 1000
            svc.produce(topic, f"k{i}", b"v", partition=partition, timestamp_ms=ts)
    svc.flush()
    svc.commit({(topic, 0): handled, (topic, 1): handled + 2})
    return topic


def test_status_counts_a_known_backlog_in_events_and_seconds(broker: Broker, svc: Svc) -> None:
    """Produce 10 per partition, commit 4 and 6: 10 events wait, aged from the committed
    event's timestamp."""
    base = int(time.time() * 1000) - 600_000
    topic = _backlog(svc, produced=10, handled=4, base_ms=base)

    found = status.collect(broker, resolve(broker, svc.name))

    assert found.waiting == (10 - 4) + (10 - 6)
    by_partition = {p.partition: p for p in found.partitions}
    assert by_partition[0].lag == 6
    assert by_partition[1].lag == 4
    assert by_partition[0].oldest_ms == base + 4 * 1000
    assert by_partition[1].oldest_ms == base + 100_000 + 6 * 1000
    assert found.waiting_seconds == pytest.approx((found.taken_at_ms - (base + 4000)) / 1000)
    assert found.state == "empty"
    assert found.members == ()
    assert {p.topic for p in found.partitions} == {topic}


def test_status_of_a_stopped_service_still_shows_its_lag(broker: Broker, svc: Svc) -> None:
    """A service that ran, committed and went away: its group has no members, its lag stays."""
    topic = svc.topic("input", partitions=1)
    with svc.running(topic) as consumer:
        for i in range(5):
            svc.produce(topic, f"k{i}", b"v")
        svc.flush()
        handled = 0
        while handled < 5:
            message = consumer.poll(1)
            if message is not None and message.error() is None:
                handled += 1
                consumer.commit(message=message, asynchronous=False)
        alive = status.collect(broker, resolve(broker, svc.name))
    for i in range(7):
        svc.produce(topic, f"late{i}", b"v")
    svc.flush()

    found = status.collect(broker, resolve(broker, svc.name))

    assert len(alive.members) == 1
    assert alive.members[0].client_id == f"{svc.name}-worker"
    assert found.members == ()
    assert found.waiting == 7
    assert found.waiting_seconds > 0


def test_status_counts_retry_tiers_parked_keys_and_dead_letters(broker: Broker, svc: Svc) -> None:
    """Events waiting per retry tier, live parked keys (tombstones release) and dead letters."""
    topic = svc.topic("input")
    retry1, retry2 = svc.topic("retry.1"), svc.topic("retry.2")
    dlq = svc.topic("dlq")
    parked = svc.topic("parked", config={"cleanup.policy": "compact"})
    for i in range(5):
        svc.produce(retry1, f"r{i}", b"v")
    svc.produce(retry2, "r9", b"v")
    for i in range(3):
        svc.produce(dlq, f"d{i}", b"v")
    for key in ("a", "b", "c"):
        svc.produce(parked, key, b"first dead letter")
    svc.produce(parked, "b", None)
    svc.produce(topic, "x", b"v")
    svc.flush()
    svc.commit({(topic, 0): 1, (retry1, 0): 2})

    found = status.collect(broker, resolve(broker, svc.name))

    assert found.retrying == {retry1: 3, retry2: 1}
    assert found.parked == 2
    assert found.dead_lettered == 3
    assert found.waiting == 0


def test_thresholds_make_status_exit_non_zero(kafka_bootstrap: str, svc: Svc) -> None:
    """Past --max-lag the command exits 1 and says why; within the limits it exits 0."""
    _backlog(svc, produced=10, handled=4, base_ms=int(time.time() * 1000) - 60_000)
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}
    args = ["status", svc.name, "--sample", "0", "--json"]

    over = CliRunner().invoke(cli, [*args, "--max-lag", "9"], env=env)
    within = CliRunner().invoke(cli, [*args, "--max-lag", "10", "--max-dead-letters", "0"], env=env)
    too_old = CliRunner().invoke(cli, [*args, "--max-lag-seconds", "30"], env=env)

    assert over.exit_code == 1, over.output
    assert "10 events waiting > 9" in over.stderr
    assert within.exit_code == 0, within.output
    assert json.loads(within.stdout)[0]["waiting"] == 10
    assert too_old.exit_code == 1


def test_unknown_service_and_unreachable_broker_are_clear_errors(kafka_bootstrap: str) -> None:
    """An unknown service and a broker that does not answer raise typed errors, not hangs."""
    result = CliRunner().invoke(
        cli, ["status", "no-such-service-x1"], env={"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}
    )
    assert isinstance(result.exception, UnknownServiceError)
    assert "unknown service 'no-such-service-x1'" in str(result.exception)

    down = CliRunner().invoke(
        cli, ["status", "--timeout", "1"], env={"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}
    )
    assert isinstance(down.exception, BrokerUnreachableError)
