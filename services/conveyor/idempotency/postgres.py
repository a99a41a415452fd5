"""The PostgreSQL processed-event store (psycopg 3), for production: one connection per thread."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg

from conveyor.idempotency.base import DONE, RESERVED, TABLE, Claim, Reservation, Transaction, judge
from conveyor.idempotency.connections import PerThread
from conveyor.idempotency.sql import Statements, schema

_SQL = Statements.with_placeholder("%s")
Connection = psycopg.Connection[tuple[object, ...]]


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
        self._connections: PerThread[Connection] = PerThread(
            lambda: psycopg.connect(self.dsn, autocommit=True), lambda conn: not conn.closed
        )
        conn = self._connection()
        with conn.transaction():
            # Concurrent first starts race on CREATE TABLE IF NOT EXISTS; a lock serialises them.
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (TABLE,))
            conn.execute(schema("BIGINT"))

    def reserve(self, service: str, event_id: str) -> Claim:
        now = self._now_ms()
        conn = self._connection()
        with conn.transaction():
            inserted = conn.execute(
                _SQL.reserve + " ON CONFLICT DO NOTHING RETURNING 1",
                (service, event_id, RESERVED, now),
            ).fetchone()
            if inserted is not None:
                return Claim.ACQUIRED
            row = conn.execute(_SQL.select_mark + " FOR UPDATE", (service, event_id)).fetchone()
            if row is None:  # released between our insert and select: take it now
                conn.execute(_SQL.reserve, (service, event_id, RESERVED, now))
                return Claim.ACQUIRED
            state, reserved_at = str(row[0]), int(str(row[1]))
            claim = judge(state, reserved_at, now, self.stale_after_ms)
            if claim is Claim.RECLAIMED:
                conn.execute(_SQL.reclaim, (now, service, event_id))
            return claim

    def confirm(self, service: str, event_id: str) -> None:
        now = self._now_ms()
        conn = self._connection()
        with conn.transaction():
            conn.execute(_SQL.mark_done, (service, event_id, DONE, now, now))

    def release(self, service: str, event_id: str) -> None:
        conn = self._connection()
        with conn.transaction():
            conn.execute(_SQL.release, (service, event_id, RESERVED))

    @contextmanager
    def transaction(self, service: str, event_id: str) -> Iterator[Transaction[Connection]]:
        """Mark the event done and write its side effect through the same connection, atomically.

        The mark is written first, so a concurrent delivery of the same event waits on its row
        lock and then sees it done."""
        now = self._now_ms()
        conn = self._connection()
        with conn.transaction() as pg_tx:
            previous = conn.execute(
                _SQL.select_mark + " FOR UPDATE", (service, event_id)
            ).fetchone()
            tx = Transaction(conn, already_done=previous is not None and previous[0] == DONE)
            if not tx.already_done:
                inserted = conn.execute(
                    _SQL.mark_done + " WHERE " + TABLE + ".state <> %s RETURNING 1",
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
            rows = conn.execute(_SQL.stale, (RESERVED, cutoff)).fetchall()
        return [Reservation(str(s), str(e), int(str(r)), int(str(n))) for s, e, r, n in rows]

    def expire(self, older_than_s: float) -> int:
        cutoff = self._now_ms() - round(older_than_s * 1000)
        conn = self._connection()
        with conn.transaction():
            return conn.execute(_SQL.expire, (DONE, cutoff)).rowcount

    def close(self) -> None:
        self._connections.close()

    def _now_ms(self) -> int:
        return round(self._clock() * 1000)

    def _connection(self) -> Connection:
        return self._connections.get()
