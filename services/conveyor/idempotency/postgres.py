"""The PostgreSQL processed-event store (psycopg 3), for production: one connection per thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg

from conveyor.idempotency.base import DONE, RESERVED, TABLE, Claim, Reservation, Transaction, judge

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    service TEXT NOT NULL,
    event_id TEXT NOT NULL,
    state TEXT NOT NULL,
    reserved_at BIGINT NOT NULL,
    confirmed_at BIGINT,
    reclaims INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (service, event_id)
)
"""
_MARK_DONE = (
    f"INSERT INTO {TABLE} (service, event_id, state, reserved_at, confirmed_at) "
    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (service, event_id) "
    "DO UPDATE SET state = EXCLUDED.state, confirmed_at = EXCLUDED.confirmed_at"
)


class PostgresStore:
    """Marks in a PostgreSQL table; row locks serialise concurrent deliveries of one event."""

    def __init__(
        self,
        dsn: str,
        *,
        stale_after: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.dsn = dsn
        self.stale_after_ms = round(stale_after * 1000)
        self._clock = clock
        self._local = threading.local()
        self._all: list[psycopg.Connection[tuple[object, ...]]] = []
        self._lock = threading.Lock()
        conn = self._connection()
        with conn.transaction():
            # Concurrent first starts race on CREATE TABLE IF NOT EXISTS; a lock serialises them.
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (TABLE,))
            conn.execute(_SCHEMA)

    def reserve(self, service: str, event_id: str) -> Claim:
        now = self._now_ms()
        conn = self._connection()
        with conn.transaction():
            inserted = conn.execute(
                f"INSERT INTO {TABLE} (service, event_id, state, reserved_at) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1",
                (service, event_id, RESERVED, now),
            ).fetchone()
            if inserted is not None:
                return Claim.ACQUIRED
            row = conn.execute(
                f"SELECT state, reserved_at FROM {TABLE} "
                "WHERE service = %s AND event_id = %s FOR UPDATE",
                (service, event_id),
            ).fetchone()
            if row is None:  # released between our insert and select: take it now
                conn.execute(
                    f"INSERT INTO {TABLE} (service, event_id, state, reserved_at) "
                    "VALUES (%s, %s, %s, %s)",
                    (service, event_id, RESERVED, now),
                )
                return Claim.ACQUIRED
            state, reserved_at = str(row[0]), int(str(row[1]))
            claim = judge(state, reserved_at, now, self.stale_after_ms)
            if claim is Claim.RECLAIMED:
                conn.execute(
                    f"UPDATE {TABLE} SET reserved_at = %s, reclaims = reclaims + 1 "
                    "WHERE service = %s AND event_id = %s",
                    (now, service, event_id),
                )
            return claim

    def confirm(self, service: str, event_id: str) -> None:
        now = self._now_ms()
        conn = self._connection()
        with conn.transaction():
            conn.execute(_MARK_DONE, (service, event_id, DONE, now, now))

    def release(self, service: str, event_id: str) -> None:
        conn = self._connection()
        with conn.transaction():
            conn.execute(
                f"DELETE FROM {TABLE} WHERE service = %s AND event_id = %s AND state = %s",
                (service, event_id, RESERVED),
            )

    @contextmanager
    def transaction(
        self, service: str, event_id: str
    ) -> Iterator[Transaction[psycopg.Connection[tuple[object, ...]]]]:
        """Mark the event done and write its side effect through the same connection, atomically.

        The mark is written first, so a concurrent delivery of the same event waits on its row
        lock and then sees it done."""
        now = self._now_ms()
        conn = self._connection()
        with conn.transaction() as pg_tx:
            previous = conn.execute(
                f"SELECT state FROM {TABLE} WHERE service = %s AND event_id = %s FOR UPDATE",
                (service, event_id),
            ).fetchone()
            tx = Transaction(conn, already_done=previous is not None and previous[0] == DONE)
            if not tx.already_done:
                inserted = conn.execute(
                    _MARK_DONE + " WHERE " + TABLE + ".state <> %s RETURNING 1",
                    (service, event_id, DONE, now, now, DONE),
                ).fetchone()
                tx.already_done = inserted is None
            yield tx
            if tx.already_done:
                raise psycopg.Rollback(pg_tx)

    def stale(self, older_than_s: float) -> list[Reservation]:
        cutoff = self._now_ms() - round(older_than_s * 1000)
        conn = self._connection()
        with conn.transaction():
            rows = conn.execute(
                f"SELECT service, event_id, reserved_at, reclaims FROM {TABLE} "
                "WHERE state = %s AND reserved_at <= %s ORDER BY reserved_at",
                (RESERVED, cutoff),
            ).fetchall()
        return [Reservation(str(s), str(e), int(str(r)), int(str(n))) for s, e, r, n in rows]

    def expire(self, older_than_s: float) -> int:
        cutoff = self._now_ms() - round(older_than_s * 1000)
        conn = self._connection()
        with conn.transaction():
            cursor = conn.execute(
                f"DELETE FROM {TABLE} WHERE state = %s AND confirmed_at < %s", (DONE, cutoff)
            )
            return cursor.rowcount

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()

    def _now_ms(self) -> int:
        return round(self._clock() * 1000)

    def _connection(self) -> psycopg.Connection[tuple[object, ...]]:
        conn: psycopg.Connection[tuple[object, ...]] | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = psycopg.connect(self.dsn, autocommit=True)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn
