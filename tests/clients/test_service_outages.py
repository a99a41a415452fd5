"""A service process rides out the loss of a broker node, and stops clearly on a wrong address."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from conveyor import naming
from conveyor.localkafka import LocalKafka
from conveyor.parking import PARKED_TOPIC_CONFIG
from conveyor.runtime.health import Health, HealthServer
from tests.clients.processes import WORKER, WorkerProcess, probe
from tests.conftest import create_topic, partition_leader
from tests.publishing.gateway_process import free_port
from tests.runtime.support import produce_pings

DURABLE = {"min.insync.replicas": "2"}


def _until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout:g}s")
        time.sleep(0.2)


def test_a_process_waiting_on_kafka_is_alive_but_not_ready() -> None:
    """While a wait for Kafka goes on, `/livez` holds (a restart would not help) and `/readyz`
    answers 503 naming what it waits for; once the wait is over, ready again."""
    health = Health(stale_after=30)
    health.polled(assigned=True)
    server = HealthServer(health, CollectorRegistry(), 0)
    server.start("svc")
    try:
        health.waiting("parked keys", "_TRANSPORT: broker down")
        assert probe(server.port, "livez") == (200, "live\n")
        assert probe(server.port, "readyz") == (
            503,
            "not ready\nparked keys: _TRANSPORT: broker down\n",
        )
        health.unblock("parked keys")
        assert probe(server.port, "readyz") == (200, "ready\n")
    finally:
        server.stop()


def test_a_wrong_bootstrap_stops_the_service_with_a_clear_message(tmp_path: Path) -> None:
    """No broker at the configured address: after the start timeout the process exits 1 with a
    `service.failed` line naming the address, and its stderr holds JSON lines only."""
    nowhere = f"127.0.0.1:{free_port()}"
    stderr = tmp_path / "stderr"
    with stderr.open("wb") as sink:
        code = subprocess.run(
            [*WORKER, nowhere, "t-nowhere", "nowhere", str(tmp_path / "handled"), "off"],
            env={**os.environ, "CONVEYOR_KAFKA_START_TIMEOUT_S": "2"},
            stderr=sink,
            stdout=subprocess.DEVNULL,
            timeout=60,
            check=False,
        ).returncode
    events = [json.loads(line) for line in stderr.read_text().splitlines() if line.strip()]
    assert code == 1
    failed = [e for e in events if e["event"] == "service.failed"]
    assert len(failed) == 1
    assert failed[0]["error_type"] == "BrokerUnreachableError"
    assert nowhere in failed[0]["reason"]


@pytest.mark.kafka
@pytest.mark.cluster
def test_a_service_rides_out_the_loss_of_the_leader_of_its_parked_keys(
    cluster: LocalKafka, tmp_path: Path
) -> None:
    """SIGKILL of the node leading `<service>.parked` while a second process of an ordered
    service starts (so it reads its parked keys with the leader gone): neither process exits;
    the one that met the outage logs `kafka.unavailable` once and `kafka.recovered` once for it;
    every event published meanwhile is handled; librdkafka's refusals from the dead node arrive
    as `kafka.log` events, and stderr holds JSON lines only; once the node is back, both are
    ready."""
    bootstrap = cluster.bootstrap_servers
    suffix = uuid.uuid4().hex[:8]
    service = f"outage-{suffix}"
    topic = create_topic(bootstrap, f"t-outage-{suffix}", 3, 3, DURABLE)
    create_topic(bootstrap, naming.dead_letter_topic(service), 3, 3, DURABLE)
    create_topic(bootstrap, naming.redrive_topic(service), 3, 3, DURABLE)
    parked = create_topic(
        bootstrap, naming.parked_topic(service), 1, 3, {**PARKED_TOPIC_CONFIG, **DURABLE}
    )
    keys = [f"k{i}" for i in range(12)]
    before = produce_pings(bootstrap, topic, keys, per_key=2)
    first = WorkerProcess(tmp_path, "first", bootstrap, topic, service)
    second: WorkerProcess | None = None
    try:
        _until(lambda: first.ready() == 200, 40, "the first process was not ready")
        _until(
            lambda: {str(p.event_id) for p in before} <= first.handled_ids(),
            30,
            "the first events were not handled",
        )
        victim = partition_leader(bootstrap, parked)
        second = WorkerProcess(tmp_path, "second", bootstrap, topic, service)
        cluster.node(victim).kill()
        during = produce_pings(bootstrap, topic, keys, per_key=2)
        expected = {str(p.event_id) for p in before + during}
        _until(lambda: expected <= first.handled_ids(), 50, "events went unhandled")
        cluster.start_node(victim)
        cluster.wait_node_ready(victim, 120)  # a JVM on a busy CI machine
        _until(
            lambda: first.ready() == 200 and second.ready() == 200,
            60,
            "the processes were not both ready after the node came back",
        )
        assert first.process.poll() is None, "the first process exited"
        assert second.process.poll() is None, "the second process exited"
    finally:
        codes = [first.stop(), second.stop() if second else 0]
    assert codes == [0, 0]
    events = first.events() + second.events()  # raises on any raw line
    outage = [
        (e["event"], e["what"])
        for e in second.events()
        if e["event"] in {"kafka.unavailable", "kafka.recovered"}
    ]
    assert outage == [("kafka.unavailable", "parked keys"), ("kafka.recovered", "parked keys")]
    dead_port = str(cluster.node(victim).port)
    refusals = [e for e in events if e["event"] == "kafka.log" and dead_port in e.get("broker", "")]
    assert refusals, "no librdkafka line about the dead node reached the JSON stream"
