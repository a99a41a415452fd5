"""Transactional outbox on SQLite and PostgreSQL: rows only with their commit, a relay that keeps
order per key through SIGKILL and restart, marks only what the broker confirmed, and reports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from conveyor import naming
from conveyor.codec import InvalidEventError
from conveyor.outbox import Backlog, Outbox, OutboxRelay, RelayConfig, RelayLockedError
from conveyor.publish import PublisherConfig
from shop_events import USER_TOPIC, UserSignedUp
from tests.conftest import TopicFactory, create_topic
from tests.messages import headers_of, key_of
from tests.project import repo_codec
from tests.publishing.outbox_db import OutboxDb
from tests.reading import read_until
from tests.samples import signup

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def outbox_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OutboxDb]:
    """An empty outbox table in SQLite or PostgreSQL (skipped without a server)."""
    table = f"outbox_{uuid.uuid4().hex[:10]}"
    if request.param == "sqlite":
        db = OutboxDb(f"sqlite:///{tmp_path / 'app.sqlite3'}", table)
    else:
        db = OutboxDb(request.getfixturevalue("postgres_dsn"), table)
    conn = db.connect()
    db.table.create(conn)
    conn.commit()
    conn.close()  # type: ignore[attr-defined]
    yield db
    db.drop()


def _outbox(db: OutboxDb, topic: str) -> Outbox:
    return Outbox(db.table, repo_codec(), {USER_TOPIC: topic})


def test_outbox_row_exists_only_when_its_transaction_commits(outbox_db: OutboxDb) -> None:
    """add() writes in the caller's transaction: rollback leaves nothing, commit leaves the row,
    and an invalid event raises before anything is written."""
    outbox = _outbox(outbox_db, "t-any")
    conn = outbox_db.connect()
    outbox.add(conn, signup("rolled-back"))
    conn.rollback()
    assert outbox_db.count() == 0
    outbox.add(conn, signup("committed"))
    conn.commit()
    with pytest.raises(InvalidEventError):
        outbox.add(conn, UserSignedUp.model_construct(user_id="u", email="", name=""))
    conn.rollback()
    conn.close()  # type: ignore[attr-defined]
    assert outbox_db.count() == 1


def test_relay_keeps_rows_pending_while_the_broker_is_unreachable(outbox_db: OutboxDb) -> None:
    """With no broker the relay keeps trying, marks nothing sent, keeps reporting a backlog of
    every row with a positive age, and still stops when asked."""
    outbox = _outbox(outbox_db, "t-unreachable")
    conn = outbox_db.connect()
    for i in range(3):
        outbox.add(conn, signup(f"u-{i}"))
    conn.commit()
    conn.close()  # type: ignore[attr-defined]
    reports: list[Backlog] = []
    reported_thrice = threading.Event()

    def observe(backlog: Backlog) -> None:
        reports.append(backlog)
        if len(reports) >= 3:
            reported_thrice.set()

    relay = OutboxRelay(
        outbox_db.table,
        outbox_db.connect,
        PublisherConfig(bootstrap_servers="127.0.0.1:1"),
        repo_codec(),
        config=RelayConfig(backlog_interval=0.0, shutdown_timeout=0.5),
        on_backlog=observe,
    )
    stop = threading.Event()
    worker = threading.Thread(target=relay.run, args=(stop,))
    worker.start()
    assert reported_thrice.wait(60)
    stop.set()
    worker.join()
    assert outbox_db.count("sent_at IS NULL") == 3
    assert reports[-1].pending == 3
    assert reports[-1].oldest_age > 0


@pytest.mark.postgres
def test_second_relay_on_the_same_postgres_table_is_refused(postgres_dsn: str) -> None:
    """Only one relay may publish a PostgreSQL outbox table: a second one raises
    RelayLockedError while the first holds the table's advisory lock."""
    db = OutboxDb(postgres_dsn, f"outbox_{uuid.uuid4().hex[:10]}")
    config = PublisherConfig(bootstrap_servers="127.0.0.1:1")
    first, second = (OutboxRelay(db.table, db.connect, config, repo_codec()) for _ in range(2))
    holder = db.connect()
    assert db.table.try_lock(holder)
    try:
        with pytest.raises(RelayLockedError):
            second.run(threading.Event())
    finally:
        holder.close()  # type: ignore[attr-defined]
    assert first.table.name == second.table.name


def _start_relay(db: OutboxDb, bootstrap: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.publishing.relay_process",
            db.url,
            db.table_name,
            bootstrap,
            "50",
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def _wait_until(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


@pytest.mark.kafka
@pytest.mark.timeout(240)
def test_relay_killed_mid_backlog_loses_nothing_and_keeps_order_per_key(
    outbox_db: OutboxDb, kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """A relay SIGKILLed halfway through a backlog and started again delivers every event; per
    key, events first arrive in the order they were written (re-sends repeat an event_id)."""
    topic = new_topic(partitions=3)
    outbox = _outbox(outbox_db, topic)
    keys = [f"user-{k}" for k in range(10)]
    written: dict[str, list[str]] = defaultdict(list)
    conn = outbox_db.connect()
    for seq in range(300):
        for key in keys:
            event = signup(key, name=f"seq-{seq}")
            outbox.add(conn, event)
            written[key].append(str(event.event_id))
        if seq % 50 == 49:
            conn.commit()
    conn.commit()
    conn.close()  # type: ignore[attr-defined]
    total = len(keys) * 300

    relay = _start_relay(outbox_db, kafka_bootstrap)
    try:
        assert _wait_until(lambda: outbox_db.count("sent_at IS NOT NULL") >= 200, 120)
        relay.send_signal(signal.SIGKILL)
        relay.wait(30)
        assert outbox_db.count("sent_at IS NOT NULL") < total, "killed too late to prove anything"
        relay = _start_relay(outbox_db, kafka_bootstrap)
        assert _wait_until(lambda: outbox_db.count("sent_at IS NULL") == 0, 180)
    finally:
        relay.send_signal(signal.SIGTERM)
        relay.wait(60)

    messages = read_until(kafka_bootstrap, [topic], expect=total, timeout=120)
    arrived: dict[str, list[str]] = defaultdict(list)
    for msg in messages:
        arrived[key_of(msg).decode()].append(headers_of(msg)[naming.EVENT_ID].decode())
    for key in keys:
        first_arrivals = list(dict.fromkeys(arrived[key]))
        assert first_arrivals == written[key], f"key {key}: lost or reordered events"


@pytest.mark.kafka
@pytest.mark.timeout(180)
def test_rows_committed_while_a_batch_is_in_flight_follow_it_in_order(
    outbox_db: OutboxDb, kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """Rows committed (and the relay woken) while the relay waits for the broker go out behind
    the batch in flight: with batches of 5 and an idle poll of 5 s, 100 commits of 3 keys all
    arrive within seconds, in write order per key, and every row ends marked sent."""
    topic = new_topic(partitions=3)
    outbox = _outbox(outbox_db, topic)
    relay = OutboxRelay(
        outbox_db.table,
        outbox_db.connect,
        PublisherConfig(bootstrap_servers=kafka_bootstrap),
        repo_codec(),
        config=RelayConfig(batch_size=5, idle_interval=5.0),
    )
    stop = threading.Event()
    worker = threading.Thread(target=relay.run, args=(stop,))
    worker.start()
    keys = [f"user-{k}" for k in range(3)]
    written: dict[str, list[str]] = defaultdict(list)
    conn = outbox_db.connect()
    try:
        for seq in range(100):
            for key in keys:
                event = signup(key, name=f"seq-{seq}")
                outbox.add(conn, event)
                written[key].append(str(event.event_id))
            conn.commit()
            relay.wake()
            time.sleep(0.002)
        assert _wait_until(lambda: outbox_db.count("sent_at IS NULL") == 0, 30)
    finally:
        stop.set()
        worker.join()
        conn.close()  # type: ignore[attr-defined]
    messages = read_until(kafka_bootstrap, [topic], expect=300, timeout=60)
    arrived: dict[str, list[str]] = defaultdict(list)
    for msg in messages:
        arrived[key_of(msg).decode()].append(headers_of(msg)[naming.EVENT_ID].decode())
    assert {key: list(dict.fromkeys(ids)) for key, ids in arrived.items()} == written


@pytest.mark.postgres
@pytest.mark.kafka
@pytest.mark.timeout(120)
def test_rows_go_out_at_commit_while_earlier_ones_await_the_broker(
    postgres_dsn: str, kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """The relay sends what was committed without waiting for the broker's answers to what it
    sent before: a row for a topic that does not exist yet stays in flight while the rows
    committed after it arrive, among them a row with a lower id committed after a higher one
    (PostgreSQL hands out ids before commit); once the topic exists, it arrives too and every
    row ends marked sent."""
    db = OutboxDb(postgres_dsn, f"outbox_{uuid.uuid4().hex[:10]}")
    setup = db.connect()
    db.table.create(setup)
    setup.commit()
    later = f"t-later-{uuid.uuid4().hex[:8]}"
    open_topic = new_topic(partitions=1)
    relay = OutboxRelay(
        db.table,
        db.connect,
        PublisherConfig(bootstrap_servers=kafka_bootstrap),
        repo_codec(),
        config=RelayConfig(idle_interval=5.0),
    )
    stop = threading.Event()
    worker = threading.Thread(target=relay.run, args=(stop,))
    worker.start()
    early, late = db.connect(), db.connect()
    try:
        waiting = signup("waiting")
        _outbox(db, later).add(setup, waiting)
        setup.commit()
        relay.wake()
        assert _wait_until(lambda: relay.in_flight == 1, 10)
        lower, higher = signup("lower-id"), signup("higher-id")
        _outbox(db, open_topic).add(early, lower)  # takes its id now, commits last
        _outbox(db, open_topic).add(late, higher)
        late.commit()
        relay.wake()
        assert _wait_until(lambda: db.count("sent_at IS NOT NULL") == 1, 10)  # `higher`
        early.commit()
        relay.wake()
        messages = read_until(kafka_bootstrap, [open_topic], expect=2, timeout=20)
        assert [headers_of(m)[naming.EVENT_ID].decode() for m in messages] == [
            str(higher.event_id),
            str(lower.event_id),
        ]
        assert _wait_until(lambda: db.count("sent_at IS NULL") == 1, 10)
        create_topic(kafka_bootstrap, later, partitions=1)
        assert _wait_until(lambda: db.count("sent_at IS NULL") == 0, 30)
        (arrived,) = read_until(kafka_bootstrap, [later], expect=1, timeout=20)
        assert headers_of(arrived)[naming.EVENT_ID].decode() == str(waiting.event_id)
    finally:
        stop.set()
        worker.join()
        for conn in (setup, early, late):
            conn.close()  # type: ignore[attr-defined]
        db.drop()
