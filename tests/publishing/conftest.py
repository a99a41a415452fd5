"""Fixtures of the publishing tests: a private broker node to stop and restart, PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from conveyor.localkafka import LocalKafka
from tests.conftest import start_local_kafka


@pytest.fixture(scope="session")
def private_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafka]:
    """A single-node LocalKafka this package's outage tests may stop and restart; the shared
    broker never goes down for them."""
    cluster = start_local_kafka(tmp_path_factory.mktemp("publishing-kafka"), nodes=1)
    try:
        yield cluster
    finally:
        cluster.down(wipe=True)


@pytest.fixture
def running_private_kafka(private_kafka: LocalKafka) -> Iterator[LocalKafka]:
    """The private node, up at the start of the test and brought back up after it."""
    if not private_kafka.is_running(1):
        private_kafka.node(1).restart(timeout=120)
    yield private_kafka
    if not private_kafka.is_running(1):
        private_kafka.node(1).restart(timeout=120)


@pytest.fixture
def postgres_dsn() -> str:
    """A PostgreSQL server named by CONVEYOR_TEST_POSTGRES_DSN; the test skips without one."""
    dsn = os.environ.get("CONVEYOR_TEST_POSTGRES_DSN")
    if not dsn:
        pytest.skip("CONVEYOR_TEST_POSTGRES_DSN is not set")
    return dsn
