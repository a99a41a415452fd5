"""Shared fixtures: a real Kafka for the session, a fresh topic per test, a 3-node cluster.

The broker is the one `KAFKA_BOOTSTRAP_SERVERS` names when it is set; otherwise the session starts
its own single node with the project's launcher, on free loopback ports, and stops it at the end.
`CONVEYOR_TEST_KAFKA=testcontainers` uses a Kafka container instead, where a Docker engine runs.
"""

from __future__ import annotations

import gc
import os
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from conveyor.errors import LauncherError
from conveyor.localkafka import ClusterSpec, KafkaDistribution, LocalKafka
from conveyor.settings import Settings

TopicFactory = Callable[..., str]


def pytest_sessionstart(session: pytest.Session) -> None:
    """Refuse to test stale native code: a module compiled by `make setup` (see setup.py) is
    imported instead of its source, so an edit to the source would go untested."""
    from conveyor.native import StaleBuildError, check_fresh

    try:
        check_fresh()
    except StaleBuildError as exc:
        pytest.exit(str(exc), 2)


def free_base_port(spec_nodes: int, *, secure: bool = False) -> int:
    """A port p such that every port a local cluster of this size (and security) uses is free."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base: int = probe.getsockname()[1]
        if base > 60000:
            continue
        ports = ClusterSpec(nodes=spec_nodes, port=base, secure=secure).ports()
        if all(bindable(p) for p in ports):
            return base
    raise RuntimeError("no free port range found")


def bindable(port: int) -> bool:
    """True if a listener could bind `port` on loopback now."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def start_local_kafka(home: Path, nodes: int) -> LocalKafka:
    settings = Settings.from_env(os.environ)
    distribution = KafkaDistribution(cache_dir=settings.cache_dir, java_home=settings.java_home)
    cluster = LocalKafka(home, distribution, ClusterSpec(nodes=nodes, port=free_base_port(nodes)))
    try:
        cluster.up(timeout=120)
    except LauncherError:  # e.g. a port taken since it was found free: leave no node behind
        cluster.down(wipe=True)
        raise
    return cluster


def wait_for_group_coordinator(
    bootstrap: str, settings: Mapping[str, str], timeout: float = 90
) -> None:
    """Block until the cluster coordinates consumer groups. A fresh cluster creates its offsets
    topic at the first group request and loads it for seconds; a client that asks meanwhile is
    told NOT_COORDINATOR, and a consumer assigned partitions by hand then gives up fetching
    their committed offsets and never fetches. A session's first test would meet that; later
    ones, and any long-running cluster, do not. (The 3-node cluster of the fault tests is left
    as it starts: its tests time their faults around its coordinators.)"""
    consumer = Consumer(
        {**settings, "bootstrap.servers": bootstrap, "group.id": "conveyor-tests-warm-up"}
    )
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                consumer.committed([TopicPartition("conveyor-tests-warm-up", 0)], timeout=10)
                return
            except KafkaException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
    finally:
        consumer.close()


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap servers of a real broker for this test session."""
    existing = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if existing:
        yield existing
        return
    if os.environ.get("CONVEYOR_TEST_KAFKA") == "testcontainers":
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer("apache/kafka:4.1.1").with_kraft() as container:
            yield container.get_bootstrap_server()
        return
    cluster = start_local_kafka(tmp_path_factory.mktemp("kafka"), nodes=1)
    try:
        wait_for_group_coordinator(cluster.bootstrap_servers, cluster.client_settings())
        yield cluster.bootstrap_servers
    finally:
        # Clients that tests dropped inside reference cycles live until the collector runs;
        # collected after the broker stops, they would log "Connection refused" on the way out.
        gc.collect()
        cluster.down(wipe=True)


@pytest.fixture(scope="session")
def kafka_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafka]:
    """A local 3-node cluster (RF 3, min ISR 2) for fault tests; the session owns it."""
    cluster = start_local_kafka(tmp_path_factory.mktemp("kafka3"), nodes=3)
    try:
        yield cluster
    finally:
        cluster.down(wipe=True)


@pytest.fixture
def cluster(kafka_cluster: LocalKafka) -> Iterator[LocalKafka]:
    """The session's 3-node cluster, with every node brought back up after the test."""
    yield kafka_cluster
    kafka_cluster.up(timeout=120)


def partition_leader(bootstrap: str, topic: str, partition: int = 0, timeout: float = 30) -> int:
    """The node id leading one partition of `topic`. A node that has just restarted may answer
    metadata without the topic for a moment: asked again until one names a leader."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    deadline = time.monotonic() + timeout
    while True:
        found = admin.list_topics(topic, timeout=10).topics.get(topic)
        described = found.partitions.get(partition) if found is not None else None
        if described is not None and described.leader >= 0:
            return int(described.leader)
        if time.monotonic() > deadline:
            raise TimeoutError(f"{topic}[{partition}]: no leader after {timeout:.0f} s")
        time.sleep(0.1)


@pytest.fixture
def admin(kafka_bootstrap: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": kafka_bootstrap})


def create_topic(
    bootstrap: str,
    name: str,
    partitions: int = 3,
    replication: int = 1,
    config: Mapping[str, str] | None = None,
) -> str:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    topic = NewTopic(
        name, num_partitions=partitions, replication_factor=replication, config=dict(config or {})
    )
    admin.create_topics([topic], operation_timeout=30)[name].result(timeout=30)
    _wait_for_leaders(admin, name, partitions)
    return name


def _wait_for_leaders(admin: AdminClient, topic: str, partitions: int, timeout: float = 30) -> None:
    """Block until metadata shows a leader for every partition of a topic just created.

    Creation is acknowledged by the controller before every broker has the topic's metadata; on a
    multi-node cluster a client asking another node right away can see no partitions yet.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = admin.list_topics(topic, timeout=10).topics.get(topic)
        if found is not None and found.error is None:
            led = sum(1 for partition in found.partitions.values() if partition.leader >= 0)
            if led == partitions:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{topic}: partitions still without a leader after {timeout:.0f} s")


@pytest.fixture
def new_topic(kafka_bootstrap: str, request: pytest.FixtureRequest) -> TopicFactory:
    """Create a fresh topic named after the test: `new_topic(partitions=6)` returns its name."""

    def make(partitions: int = 3, suffix: str = "", **config: str) -> str:
        test = re.sub(r"[^a-zA-Z0-9]+", "-", request.node.name).strip("-")[:60]
        name = f"t-{test}{'-' + suffix if suffix else ''}-{uuid.uuid4().hex[:8]}"
        return create_topic(kafka_bootstrap, name, partitions, config=config)

    return make


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    """DSN of a real PostgreSQL (`deploy/postgres/start-local.sh` starts one; CI always does)."""
    dsn = os.environ.get("CONVEYOR_TEST_POSTGRES_DSN")
    if not dsn:
        pytest.skip("CONVEYOR_TEST_POSTGRES_DSN is unset: eval $(deploy/postgres/start-local.sh)")
    return dsn
