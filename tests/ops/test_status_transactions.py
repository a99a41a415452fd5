"""`conveyor status` counts events still to handle, not offsets: transaction markers and aborted
records, which take offsets of their own, never count as waiting."""

from __future__ import annotations

import json
import uuid

import pytest
from confluent_kafka import Producer
from typer.testing import CliRunner

from conveyor.cli.main import cli
from conveyor.ops import status
from conveyor.ops.broker import Broker
from conveyor.ops.topology import resolve
from tests.ops.conftest import Svc

pytestmark = pytest.mark.kafka


def transact(bootstrap: str, topic: str, batches: list[tuple[int, bool]]) -> None:
    """Write transactions of `count` events to partition 0, committing or aborting each; every
    transaction leaves a marker offset after its records."""
    producer = Producer(
        {"bootstrap.servers": bootstrap, "transactional.id": f"status-{uuid.uuid4().hex}"}
    )
    producer.init_transactions(10)
    for count, commit in batches:
        producer.begin_transaction()
        for i in range(count):
            producer.produce(topic, b"v", f"k{i}".encode(), partition=0)
        producer.flush(10)
        if commit:
            producer.commit_transaction(10)
        else:
            producer.abort_transaction(10)


def handle_all(svc: Svc, topic: str, count: int) -> int:
    """Consume `count` events as a member of the service's group, committing after the last;
    returns the committed offset (the last event's offset plus one)."""
    with svc.running(topic) as consumer:
        transact(svc.bootstrap, topic, [(count // 2, True), (count - count // 2, True)])
        handled = 0
        while handled < count:
            message = consumer.poll(1)
            if message is not None and message.error() is None:
                handled += 1
                last = message
        consumer.commit(message=last, asynchronous=False)
        return (last.offset() or 0) + 1


def test_a_handled_transactional_partition_has_no_lag_and_passes_max_lag_0(
    broker: Broker, svc: Svc
) -> None:
    """A group that handled every event of a transactional producer and committed stands
    before the last transaction's marker: status shows 0 waiting and `--max-lag 0` exits 0."""
    topic = svc.topic("input", partitions=1)
    committed = handle_all(svc, topic, count=6)

    found = status.collect(broker, resolve(broker, svc.name))
    result = CliRunner().invoke(
        cli,
        ["status", svc.name, "--sample", "0", "--json", "--max-lag", "0"],
        env={"KAFKA_BOOTSTRAP_SERVERS": svc.bootstrap},
    )

    assert found.partitions[0].committed == committed
    assert found.partitions[0].end > committed  # markers follow the last event
    assert found.waiting == 0
    assert found.waiting_seconds == 0
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["waiting"] == 0


def test_aborted_records_are_not_waiting(broker: Broker, svc: Svc) -> None:
    """3 committed, 4 aborted, 2 committed: from the start 5 events wait (13 offsets with the
    markers); after the first 3 are handled, 2 do."""
    topic = svc.topic("input", partitions=1)
    transact(svc.bootstrap, topic, [(3, True), (4, False), (2, True)])

    svc.commit({(topic, 0): 0})
    topology = resolve(broker, svc.name)
    from_start = status.collect(broker, topology)
    svc.commit({(topic, 0): 3})
    after_three = status.collect(broker, topology)

    assert from_start.partitions[0].end == 3 + 1 + 4 + 1 + 2 + 1
    assert from_start.waiting == 5
    assert after_three.waiting == 2


def test_a_plain_partition_counts_its_waiting_events_exactly(broker: Broker, svc: Svc) -> None:
    """Without transactions every offset is an event: 9 produced, 2 handled, 7 wait."""
    topic = svc.topic("input", partitions=1)
    for i in range(9):
        svc.produce(topic, f"k{i}", b"v")
    svc.flush()
    svc.commit({(topic, 0): 2})

    found = status.collect(broker, resolve(broker, svc.name))

    assert found.waiting == 7


def test_a_long_backlog_counts_offsets_from_its_first_event(broker: Broker, svc: Svc) -> None:
    """Past the exact bound a partition is not read through: its waiting events are the
    offsets from the first one to the end, markers included (here 4 events and 2 markers after
    an aborted transaction, whose records are skipped)."""
    topic = svc.topic("input", partitions=1)
    transact(svc.bootstrap, topic, [(3, False), (2, True), (2, True)])
    broker.refresh()
    end = broker.watermarks([(topic, 0)])[(topic, 0)][1]

    counted = status.count_waiting(broker, {(topic, 0): (0, end)}, exact_up_to=end - 1)
    exact = status.count_waiting(broker, {(topic, 0): (0, end)}, exact_up_to=end)

    lag, first = counted[(topic, 0)]
    assert first is not None
    assert first.offset == 3 + 1
    assert lag == end - first.offset == 6
    assert exact[(topic, 0)][0] == 4
