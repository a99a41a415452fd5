"""The SQLite processed-event store, conveyor's default: one file, one connection per thread."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from conveyor.idempotency.base import DONE, RESERVED, Claim, Reservation, Transaction, judge
from conveyor.idempotency.connections import PerThread
from conveyor.idempotency.sql import Statements, schema

_SQL = Statements.with_placeholder("?")


class SqliteStore:
    """Marks in a SQLite file (WAL mode, so readers never block the writer)."""

    def __init__(
        self,
        path: Path | str,
        *,
        stale_after: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = str(path)
        self.stale_after_ms = round(stale_after * 1000)
        self._clock = clock
        self._connections = PerThread(self._connect, lambda conn: True)
        conn = self._connection()
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(schema("INTEGER"))

    def reserve(self, service: str, event_id: str) -> Claim:
        now = self._now_ms()
        with self._immediate() as conn:
            row = conn.execute(_SQL.select_mark, (service, event_id)).fetchone()
            if row is None:
                conn.execute(_SQL.reserve, (service, event_id, RESERVED, now))
                return Claim.ACQUIRED
            claim = judge(row[0], row[1], now, self.stale_after_ms)
            if claim is Claim.RECLAIMED:
                conn.execute(_SQL.reclaim, (now, service, event_id))
            return claim

    def confirm(self, service: str, event_id: str) -> None:
        with self._immediate() as conn:
            conn.execute(_SQL.mark_done, (service, event_id, DONE, self._now_ms(), self._now_ms()))

    def release(self, service: str, event_id: str) -> None:
        with self._immediate() as conn:
            conn.execute(_SQL.release, (service, event_id, RESERVED))

    @contextmanager
    def transaction(self, service: str, event_id: str) -> Iterator[Transaction[sqlite3.Connection]]:
        """Mark the event done and write its side effect through the same connection, atomically."""
        now = self._now_ms()
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            previous = conn.execute(_SQL.select_mark, (service, event_id)).fetchone()
            tx = Transaction(conn, already_done=previous is not None and previous[0] == DONE)
            if not tx.already_done:
                conn.execute(_SQL.mark_done, (service, event_id, DONE, now, now))
            yield tx
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("ROLLBACK" if tx.already_done else "COMMIT")

    def stale(self, older_than_s: float) -> list[Reservation]:
        cutoff = self._now_ms() - round(older_than_s * 1000)
        rows = self._connection().execute(_SQL.stale, (RESERVED, cutoff))
        return [Reservation(*row) for row in rows]

    def expire(self, older_than_s: float) -> int:
        cutoff = self._now_ms() - round(older_than_s * 1000)
        with self._immediate() as conn:
            return conn.execute(_SQL.expire, (DONE, cutoff)).rowcount

    def close(self) -> None:
        self._connections.close()

    def _now_ms(self) -> int:
        return round(self._clock() * 1000)

    def _connection(self) -> sqlite3.Connection:
        return self._connections.get()

    def _connect(self) -> sqlite3.Connection:
        # Each connection serves its own thread; `close` may run elsewhere, hence no check.
        conn = sqlite3.connect(
            self.path, isolation_level=None, timeout=30.0, check_same_thread=False
        )
        conn.execute("PRAGMA busy_timeout = 30000")
        return conn

    @contextmanager
    def _immediate(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the write lock up front, so reads in it cannot race."""
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
