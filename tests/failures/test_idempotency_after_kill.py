"""Redelivery after SIGKILL: with the processed-event store, each event's row exists once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from confluent_kafka import Producer

from conveyor import naming
from conveyor.idempotency import Claim, SqliteStore
from conveyor.policies import Idempotency, Policies
from conveyor.runtime import Context, HandlerPolicy, Service
from tests.conftest import TopicFactory
from tests.failures.support import create_side_topics, running_with
from tests.runtime.support import (
    Ping,
    PingCodec,
    committed_offsets,
    fast_settings,
    produce_pings,
    wait_until,
)

pytestmark = pytest.mark.kafka

EVENTS = 300
REPO = Path(__file__).resolve().parents[2]


def _start(bootstrap: str, topic: str, url: str, table: str, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.failures.idempotent_worker",
            bootstrap,
            topic,
            url,
            table,
            str(log),
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _rows(url: str, table: str) -> tuple[int, int]:
    """(rows, distinct event ids) in the side-effect table."""
    query = f"SELECT count(*), count(DISTINCT event_id) FROM {table}"
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            rows, distinct = conn.execute(query).fetchone()
        finally:
            conn.close()
        return int(rows), int(distinct)
    with psycopg.connect(url) as pg:
        row = pg.execute(query).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])


def _create_table(url: str, table: str) -> None:
    ddl = f"CREATE TABLE {table} (event_id TEXT NOT NULL)"
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        conn.execute(ddl)
        conn.commit()
        conn.close()
    else:
        with psycopg.connect(url, autocommit=True) as pg:
            pg.execute(ddl)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'orders.db'}"
    return str(request.getfixturevalue("postgres_dsn"))


def test_side_effect_happens_once_per_event_across_a_sigkill(
    kafka_bootstrap: str, new_topic: TopicFactory, store_url: str, tmp_path: Path
) -> None:
    """Kill -9 mid-stream, restart: every event was redelivered or not, but its row exists once."""
    topic = new_topic(partitions=2)
    create_side_topics(kafka_bootstrap, f"s-{topic}", partitions=2)
    table = f"side_{uuid.uuid4().hex[:8]}"
    _create_table(store_url, table)
    produce_pings(kafka_bootstrap, topic, [f"k{i}" for i in range(30)], per_key=EVENTS // 30)
    log = tmp_path / "invocations.log"

    first = _start(kafka_bootstrap, topic, store_url, table, log)
    try:
        wait_until(lambda: _rows(store_url, table)[0] >= EVENTS // 3, timeout=60, what="a third")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    second = _start(kafka_bootstrap, topic, store_url, table, log)
    try:
        wait_until(lambda: _rows(store_url, table)[1] >= EVENTS, timeout=60, what="every event")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)

    assert _rows(store_url, table) == (EVENTS, EVENTS)
    invocations = log.read_text().split()
    assert len(set(invocations)) == EVENTS
    assert len(invocations) > EVENTS, "the kill left no redelivered event: the test proved nothing"


def test_the_idempotency_option_skips_a_redelivered_events_side_effect(
    kafka_bootstrap: str, new_topic: TopicFactory, tmp_path: Path
) -> None:
    """The same event delivered twice: the handler's side effect runs once, the skip is counted."""
    topic = new_topic(partitions=1)
    service = Service(f"s-{topic}")
    create_side_topics(kafka_bootstrap, service.name)
    store = SqliteStore(tmp_path / "marks.db")
    effects: list[str] = []

    @service.handler(Ping, policy=HandlerPolicy(idempotency=Idempotency(store)))
    def send(event: Ping, ctx: Context) -> None:
        effects.append(str(event.event_id))

    ping = Ping(entity="k", seq=1)
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for _ in range(2):
        producer.produce(
            topic,
            PingCodec().encode(ping),
            b"k",
            headers=[(naming.EVENT_TYPE, Ping.AVRO_NAME.encode())],
        )
    producer.flush(10)
    policies = Policies(kafka_bootstrap)
    with running_with(
        service, kafka_bootstrap, fast_settings(topic_map={Ping.TOPIC: topic}), policies
    ):
        wait_until(
            lambda: committed_offsets(kafka_bootstrap, service.name, topic, 1) == {0: 2},
            what="both deliveries committed",
        )
    assert effects == [str(ping.event_id)]
    assert store.reserve(service.name, str(ping.event_id)) is Claim.DONE
    skips = policies.metrics.idempotent_skips.labels(service.name, Ping.AVRO_NAME)
    assert skips._value.get() == 1
