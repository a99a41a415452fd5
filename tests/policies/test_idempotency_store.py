"""The processed-event store, the same cases against SQLite and a real PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conveyor.idempotency import Claim, SqliteStore, UnknownStoreError, open_store
from conveyor.idempotency.postgres import PostgresStore


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[Any]:
    if request.param == "sqlite":
        made: Any = SqliteStore(tmp_path / "marks.db", stale_after=60, clock=clock)
    else:
        made = PostgresStore(request.getfixturevalue("postgres_dsn"), stale_after=60, clock=clock)
    yield made
    made.close()


@pytest.fixture
def service() -> str:
    """A service name no other test uses, so tests share the PostgreSQL table safely."""
    return f"svc-{uuid.uuid4().hex[:8]}"


def _side_effect_table(store: Any) -> str:
    name = f"side_{uuid.uuid4().hex[:8]}"
    if isinstance(store, SqliteStore):
        conn = sqlite3.connect(store.path)
        conn.execute(f"CREATE TABLE {name} (event_id TEXT)")
        conn.commit()
        conn.close()
    else:
        import psycopg

        with psycopg.connect(store.dsn, autocommit=True) as pg:
            pg.execute(f"CREATE TABLE {name} (event_id TEXT)")
    return name


def _count(store: Any, table: str) -> int:
    if isinstance(store, SqliteStore):
        conn = sqlite3.connect(store.path)
        (n,) = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        conn.close()
        return int(n)
    import psycopg

    with psycopg.connect(store.dsn) as pg:
        row = pg.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert row is not None
        return int(row[0])


def _insert(tx_connection: Any, table: str, event_id: str) -> None:
    placeholder = "?" if isinstance(tx_connection, sqlite3.Connection) else "%s"
    tx_connection.execute(f"INSERT INTO {table} (event_id) VALUES ({placeholder})", (event_id,))


def test_an_event_is_processed_once_after_it_was_confirmed(store: Any, service: str) -> None:
    """reserve -> confirm, then every later delivery is told it is done."""
    assert store.reserve(service, "e-1") is Claim.ACQUIRED
    store.confirm(service, "e-1")
    assert store.reserve(service, "e-1") is Claim.DONE
    assert store.reserve(f"{service}-other", "e-1") is Claim.ACQUIRED


def test_a_crash_between_reserve_and_confirm_is_visible_then_reclaimed(
    store: Any, service: str, clock: FakeClock
) -> None:
    """A fresh reservation blocks redelivery; a stale one is listed and then reclaimed, flagged."""
    assert store.reserve(service, "e-2") is Claim.ACQUIRED
    assert store.reserve(service, "e-2") is Claim.IN_FLIGHT
    clock.now += 61
    stale = [r for r in store.stale(older_than_s=60) if r.service == service]
    assert [(r.event_id, r.reclaims) for r in stale] == [("e-2", 0)]
    assert store.reserve(service, "e-2") is Claim.RECLAIMED
    store.confirm(service, "e-2")
    assert not [r for r in store.stale(older_than_s=0) if r.service == service]


def test_a_failed_side_effect_releases_its_reservation(store: Any, service: str) -> None:
    """After release the retry reserves again; release never undoes a confirmed mark."""
    assert store.reserve(service, "e-3") is Claim.ACQUIRED
    store.release(service, "e-3")
    assert store.reserve(service, "e-3") is Claim.ACQUIRED
    store.confirm(service, "e-3")
    store.release(service, "e-3")
    assert store.reserve(service, "e-3") is Claim.DONE


def test_old_marks_expire_and_recent_ones_stay(store: Any, service: str, clock: FakeClock) -> None:
    """expire deletes done marks older than the age given, never reservations."""
    store.reserve(service, "old")
    store.confirm(service, "old")
    store.reserve(service, "pending")
    clock.now += 3600
    store.reserve(service, "new")
    store.confirm(service, "new")
    assert store.expire(older_than_s=1800) >= 1
    assert store.reserve(service, "old") is Claim.ACQUIRED
    assert store.reserve(service, "new") is Claim.DONE
    assert store.reserve(service, "pending") is Claim.RECLAIMED


def test_the_write_and_the_mark_commit_in_one_transaction(store: Any, service: str) -> None:
    """A side effect written through the transaction happens once; a failure rolls back both."""
    table = _side_effect_table(store)

    def crash_before_commit() -> None:
        with store.transaction(service, "e-4") as tx:
            _insert(tx.connection, table, "e-4")
            raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        crash_before_commit()
    assert _count(store, table) == 0
    assert store.reserve(service, "e-4") is Claim.ACQUIRED  # no mark was left behind
    store.release(service, "e-4")
    for _ in range(3):
        with store.transaction(service, "e-4") as tx:
            if not tx.already_done:
                _insert(tx.connection, table, "e-4")
    assert _count(store, table) == 1
    assert store.reserve(service, "e-4") is Claim.DONE


def test_concurrent_deliveries_of_one_event_acquire_it_once(store: Any, service: str) -> None:
    """Eight threads reserving the same event: exactly one may run the side effect."""
    claims: list[Claim] = []
    start = threading.Barrier(8)

    def deliver() -> None:
        start.wait()
        claims.append(store.reserve(service, "e-5"))

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert claims.count(Claim.ACQUIRED) == 1
    assert claims.count(Claim.IN_FLIGHT) == 7


def test_stores_open_from_their_urls(tmp_path: Path) -> None:
    """sqlite:/// opens the default backend; an unknown scheme says what is supported."""
    store = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    assert isinstance(store, SqliteStore)
    store.close()
    with pytest.raises(UnknownStoreError, match="sqlite"):
        open_store("redis://localhost")


def test_the_expiry_sweep_deletes_marks_older_than_each_policys_keep_for(
    tmp_path: Path, clock: FakeClock
) -> None:
    """A sweep applies each handler's keep_for to its own store."""
    from conveyor.idempotency import Idempotency
    from conveyor.policies.idempotent import MarkExpiry

    store = SqliteStore(tmp_path / "marks.db", clock=clock)
    store.reserve("svc", "old")
    store.confirm("svc", "old")
    clock.now += 100
    store.reserve("svc", "new")
    store.confirm("svc", "new")
    assert MarkExpiry([Idempotency(store, keep_for=50)]).expire_once() == 1
    assert store.reserve("svc", "new") is Claim.DONE
    store.close()
