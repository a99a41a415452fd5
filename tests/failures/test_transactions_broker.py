"""Exactly-once consume-transform-produce: a transactional service's follow-up events are visible
to read_committed consumers once each, together with the commit of the offsets that caused them,
even when the service is SIGKILLed inside a transaction and restarted."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, Producer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from conveyor import naming
from conveyor.logs import EVENT_PROCESSED, PARTITION_REWOUND, TRANSACTION_ABORTED
from conveyor.ops import status
from conveyor.ops.broker import Broker
from conveyor.ops.topology import resolve
from conveyor.publish.message import Headers
from conveyor.runtime import ServiceSettings, run_service
from conveyor.settings import Settings
from integrations.followup import follow_up_id
from shop_events import OrderItem, OrderPaid, OrderPlaced
from tests.conftest import TopicFactory
from tests.failures.transactional_worker import build_service
from tests.messages import headers_of
from tests.project import repo_codec
from tests.runtime.support import committed_offsets, wait_until

pytestmark = pytest.mark.kafka

PARTITIONS = 3
ORDERS = 30
LIMIT = 20_000  # bytes per record batch on the abort test's topic


def place_orders(
    bootstrap: str, topic: str, count: int = ORDERS, keys: int = ORDERS
) -> tuple[list[OrderPlaced], dict[int, int]]:
    """Publish `count` orders over `keys` order ids (events of one key are handled one after
    another); returns them and the last offset written to each partition."""
    producer = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random"})
    codec = repo_codec()
    last: dict[int, int] = {}

    def record(error: object, message: Message) -> None:
        assert error is None
        partition = message.partition() or 0
        last[partition] = max(last.get(partition, -1), message.offset() or 0)

    orders = []
    for i in range(count):
        item = OrderItem(sku="BOOK", quantity=1, unit_price=100 + i)
        order = OrderPlaced(
            order_id=f"o{i % keys}", user_id="u1", items=(item,), currency="EUR", total=100 + i
        )
        headers: Headers = [(naming.EVENT_TYPE, order.AVRO_NAME.encode())]
        producer.produce(
            topic, codec.encode(order), order.key.encode(), headers=headers, on_delivery=record
        )
        orders.append(order)
    assert producer.flush(30) == 0
    return orders, last


def follow_ups(bootstrap: str, topic: str, isolation: str) -> list[str]:
    """The event ids of every OrderPaid on `topic` that a consumer with `isolation` sees."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "isolation.level": isolation,
        }
    )
    partitions = [TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(PARTITIONS)]
    consumer.assign(partitions)
    # up to the end as of now, or until the topic is quiet (the last records may be markers)
    ends = [consumer.get_watermark_offsets(tp, timeout=10)[1] for tp in partitions]
    ids: list[str] = []
    try:
        while messages := consumer.consume(500, 1.0):
            for message in messages:
                headers = headers_of(message)
                if headers.get(naming.EVENT_TYPE) == OrderPaid.AVRO_NAME.encode():
                    ids.append(headers[naming.EVENT_ID].decode())
            positions = consumer.position(partitions)
            if all(tp.offset >= end for tp, end in zip(positions, ends, strict=True)):
                break
    finally:
        consumer.close()
    return ids


@contextmanager
def workers(
    bootstrap: str, topic: str, name: str, workdir: Path
) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Yields `start(*extra)`, which starts one worker process; kills what is left on exit."""
    command = [sys.executable, "-m", "tests.failures.transactional_worker", bootstrap, topic, name]
    started: list[subprocess.Popen[bytes]] = []

    def start(*extra: str) -> subprocess.Popen[bytes]:
        log = (workdir / f"worker-{len(started)}.log").open("wb")
        process = subprocess.Popen([*command, *extra], stdout=log, stderr=log)
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
                process.wait(10)


def expected_ids(orders: list[OrderPlaced]) -> set[str]:
    return {str(follow_up_id(order.event_id, "OrderPaid")) for order in orders}


def assert_offsets_committed(bootstrap: str, group: str, topic: str, last: dict[int, int]) -> None:
    committed = committed_offsets(bootstrap, group, topic, PARTITIONS)
    for partition, offset in last.items():
        assert committed[partition] > offset


def stop_once_all_committed(
    worker: subprocess.Popen[bytes], bootstrap: str, topic: str, what: str
) -> None:
    """Wait until every order's follow-up is committed, then stop `worker` cleanly."""
    wait_until(lambda: len(follow_ups(bootstrap, topic, "read_committed")) >= ORDERS, what=what)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(30) == 0


def test_transactional_service_emits_each_follow_up_once_with_its_offsets(
    kafka_bootstrap: str, new_topic: TopicFactory, tmp_path: Path
) -> None:
    """Happy path: every order yields one OrderPaid, committed together with the orders'
    offsets; nothing is aborted, so even read_uncommitted sees each follow-up once."""
    topic = new_topic(partitions=PARTITIONS)
    name = f"tx-{topic}"
    orders, last = place_orders(kafka_bootstrap, topic)
    with workers(kafka_bootstrap, topic, name, tmp_path) as start:
        worker = start()
        stop_once_all_committed(worker, kafka_bootstrap, topic, what="every follow-up committed")
    committed = follow_ups(kafka_bootstrap, topic, "read_committed")
    assert sorted(committed) == sorted(expected_ids(orders))
    assert sorted(follow_ups(kafka_bootstrap, topic, "read_uncommitted")) == sorted(committed)
    assert_offsets_committed(kafka_bootstrap, name, topic, last)


def test_sigkill_inside_a_transaction_then_restart_emits_each_follow_up_once(
    kafka_bootstrap: str, new_topic: TopicFactory, tmp_path: Path
) -> None:
    """Killed after its follow-ups reached the log but before the transaction committed, the
    service's restart (same transactional id) aborts them and handles the orders again: a
    read_committed consumer sees each OrderPaid exactly once, and the offsets are committed."""
    topic = new_topic(partitions=PARTITIONS)
    name = f"tx-{topic}"
    orders, last = place_orders(kafka_bootstrap, topic)
    with workers(kafka_bootstrap, topic, name, tmp_path) as start:
        crashed = start("crash")
        assert crashed.wait(60) == -signal.SIGKILL
        assert follow_ups(kafka_bootstrap, topic, "read_uncommitted"), "nothing reached the log"
        assert follow_ups(kafka_bootstrap, topic, "read_committed") == []
        restarted = start()
        stop_once_all_committed(
            restarted, kafka_bootstrap, topic, what="every follow-up committed after the restart"
        )
    committed = follow_ups(kafka_bootstrap, topic, "read_committed")
    assert sorted(committed) == sorted(expected_ids(orders))
    assert len(follow_ups(kafka_bootstrap, topic, "read_uncommitted")) > ORDERS  # aborted copies
    assert_offsets_committed(kafka_bootstrap, name, topic, last)


def test_a_fenced_producer_is_replaced_and_the_service_goes_on(
    kafka_bootstrap: str, new_topic: TopicFactory, tmp_path: Path
) -> None:
    """Another producer takes the service's transactional id mid-stream (a coordinator that moved
    with a lost node answers with a stale epoch the same way): the service replaces its producer,
    rewinds, and goes on; each OrderPaid is visible once and the process never exits."""
    topic = new_topic(partitions=PARTITIONS)
    name = f"tx-{topic}"
    orders, last = place_orders(kafka_bootstrap, topic, count=100, keys=100)
    with workers(kafka_bootstrap, topic, name, tmp_path) as start:
        worker = start("slow", "fenced")
        wait_until(
            lambda: len(follow_ups(kafka_bootstrap, topic, "read_committed")) >= 10,
            what="the first follow-ups committed",
        )
        usurper = Producer(
            {"bootstrap.servers": kafka_bootstrap, "transactional.id": f"{name}-fenced"}
        )
        usurper.init_transactions(30)
        wait_until(
            lambda: len(follow_ups(kafka_bootstrap, topic, "read_committed")) >= len(orders),
            what="every follow-up committed after the fence",
        )
        assert worker.poll() is None, "the fenced service exited"
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0
    assert sorted(follow_ups(kafka_bootstrap, topic, "read_committed")) == sorted(
        expected_ids(orders)
    )
    assert_offsets_committed(kafka_bootstrap, name, topic, last)
    assert TRANSACTION_ABORTED in (tmp_path / "worker-0.log").read_text()


def test_an_aborted_transaction_rewinds_and_handles_its_events_again(
    kafka_bootstrap: str, new_topic: TopicFactory, tmp_path: Path
) -> None:
    """A transaction that fails (the broker refuses a follow-up) is aborted, its partitions are
    rewound to the committed offsets and their events handled again in the same process: each
    OrderPaid is visible once, the refused event never."""
    topic = new_topic(partitions=PARTITIONS, **{"max.message.bytes": str(LIMIT)})
    name = f"tx-{topic}"
    orders, last = place_orders(kafka_bootstrap, topic)
    with workers(kafka_bootstrap, topic, name, tmp_path) as start:
        worker = start("abort-once")
        stop_once_all_committed(
            worker, kafka_bootstrap, topic, what="every follow-up committed after the rewind"
        )
    assert sorted(follow_ups(kafka_bootstrap, topic, "read_committed")) == sorted(
        expected_ids(orders)
    )
    assert_offsets_committed(kafka_bootstrap, name, topic, last)
    log = (tmp_path / "worker-0.log").read_text()
    assert TRANSACTION_ABORTED in log
    assert PARTITION_REWOUND in log


def test_a_rebalance_mid_stream_keeps_each_follow_up_once(
    kafka_bootstrap: str, new_topic: TopicFactory, tmp_path: Path
) -> None:
    """A second instance joins while the first is busy: revoked partitions commit their
    transaction on the way out, the new owner carries on from there, and a read_committed
    consumer sees each OrderPaid once."""
    topic = new_topic(partitions=PARTITIONS)
    name = f"tx-{topic}"
    orders, last = place_orders(kafka_bootstrap, topic, count=300, keys=6)
    with workers(kafka_bootstrap, topic, name, tmp_path) as start:
        first = start("slow", "w0")
        wait_until(
            lambda: bool(follow_ups(kafka_bootstrap, topic, "read_committed")),
            what="the first instance's first commit",
        )
        second = start("slow", "w1")
        wait_until(
            lambda: len(follow_ups(kafka_bootstrap, topic, "read_committed")) >= len(orders),
            timeout=90,
            what="every follow-up committed",
        )
        for process in (first, second):
            process.send_signal(signal.SIGTERM)
        assert (first.wait(30), second.wait(30)) == (0, 0)
    assert sorted(follow_ups(kafka_bootstrap, topic, "read_committed")) == sorted(
        expected_ids(orders)
    )
    assert_offsets_committed(kafka_bootstrap, name, topic, last)
    handled_by_second = (tmp_path / "worker-1.log").read_text().count(EVENT_PROCESSED)
    assert 0 < handled_by_second < len(orders), "the rebalance did not land mid-stream"


def scrape(port: int, name: str) -> dict[int, float]:
    """The samples of metric `name` a service serves on `port`, by partition."""
    body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return {
        int(sample.labels["partition"]): sample.value
        for family in text_string_to_metric_families(body)
        if family.name == name
        for sample in family.samples
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_lag_metric_reaches_zero_when_only_transaction_markers_are_left(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """A transactional service whose follow-ups go to its own input topic leaves a commit
    marker at the end of every partition, after the last event it handled and committed; its
    `conveyor_partition_lag` still comes to 0 on every partition, and so does the lag in
    seconds, because the consumer's position moves past the markers."""
    topic = new_topic(partitions=PARTITIONS)
    name = f"tx-{topic}"
    _orders, last = place_orders(kafka_bootstrap, topic)
    port = free_port()
    settings = ServiceSettings(
        commit_interval=0.3,
        shutdown_deadline=5.0,
        http_port=port,
        topic_map={"order.events": topic},
    )
    base = Settings.from_env({"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap})
    service = build_service(name, abort_once=False, delay=0.0)
    stop = threading.Event()
    result: list[int] = []
    thread = threading.Thread(
        target=lambda: result.append(run_service(service, base, settings, repo_codec(), stop=stop)),
        daemon=True,
    )
    thread.start()
    broker = Broker.connect(kafka_bootstrap)
    try:

        def all_handled() -> bool:
            follow_ups_in = len(follow_ups(kafka_bootstrap, topic, "read_committed")) >= ORDERS
            return follow_ups_in and status.collect(broker, resolve(broker, name)).waiting == 0

        wait_until(all_handled, what="every follow-up written and handled")
        wait_until(
            lambda: scrape(port, "conveyor_partition_lag") == dict.fromkeys(range(PARTITIONS), 0),
            what="lag 0 on every partition",
        )
        seconds = scrape(port, "conveyor_partition_lag_seconds")
        ends = broker.watermarks(broker.partitions(topic))
        committed = committed_offsets(kafka_bootstrap, name, topic, PARTITIONS)
    finally:
        stop.set()
        thread.join(30)
    assert result == [0]
    assert seconds == dict.fromkeys(range(PARTITIONS), 0)
    for partition, offset in last.items():
        assert offset < committed[partition] < ends[(topic, partition)][1]
