"""The SQLite processed-event store, conveyor's default: one file, one connection per thread."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from conveyor.idempotency.base import DONE, RESERVED, TABLE, Claim, Reservation, Transaction, judge

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    service TEXT NOT NULL,
    event_id TEXT NOT NULL,
    state TEXT NOT NULL,
    reserved_at INTEGER NOT NULL,
    confirmed_at INTEGER,
    reclaims INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (service, event_id)
)
"""


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
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        conn = self._connection()
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(_SCHEMA)

    def reserve(self, service: str, event_id: str) -> Claim:
        now = self._now_ms()
        with self._immediate() as conn:
            row = conn.execute(
                f"SELECT state, reserved_at FROM {TABLE} WHERE service = ? AND event_id = ?",
                (service, event_id),
            ).fetchone()
            if row is None:
                conn.execute(
                    f"INSERT INTO {TABLE} (service, event_id, state, reserved_at) "
                    "VALUES (?, ?, ?, ?)",
                    (service, event_id, RESERVED, now),
                )
                return Claim.ACQUIRED
            claim = judge(row[0], row[1], now, self.stale_after_ms)
            if claim is Claim.RECLAIMED:
                conn.execute(
                    f"UPDATE {TABLE} SET reserved_at = ?, reclaims = reclaims + 1 "
                    "WHERE service = ? AND event_id = ?",
                    (now, service, event_id),
                )
            return claim

    def confirm(self, service: str, event_id: str) -> None:
        with self._immediate() as conn:
            conn.execute(
                f"INSERT INTO {TABLE} (service, event_id, state, reserved_at, confirmed_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (service, event_id) "
                "DO UPDATE SET state = excluded.state, confirmed_at = excluded.confirmed_at",
                (service, event_id, DONE, self._now_ms(), self._now_ms()),
            )

    def release(self, service: str, event_id: str) -> None:
        with self._immediate() as conn:
            conn.execute(
                f"DELETE FROM {TABLE} WHERE service = ? AND event_id = ? AND state = ?",
                (service, event_id, RESERVED),
            )

    @contextmanager
    def transaction(self, service: str, event_id: str) -> Iterator[Transaction[sqlite3.Connection]]:
        """Mark the event done and write its side effect through the same connection, atomically."""
        now = self._now_ms()
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            previous = conn.execute(
                f"SELECT state FROM {TABLE} WHERE service = ? AND event_id = ?",
                (service, event_id),
            ).fetchone()
            tx = Transaction(conn, already_done=previous is not None and previous[0] == DONE)
            if not tx.already_done:
                conn.execute(
                    f"INSERT INTO {TABLE} (service, event_id, state, reserved_at, confirmed_at) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (service, event_id) "
                    "DO UPDATE SET state = excluded.state, confirmed_at = excluded.confirmed_at",
                    (service, event_id, DONE, now, now),
                )
            yield tx
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("ROLLBACK" if tx.already_done else "COMMIT")

    def stale(self, older_than_s: float) -> list[Reservation]:
        cutoff = self._now_ms() - round(older_than_s * 1000)
        rows = self._connection().execute(
            f"SELECT service, event_id, reserved_at, reclaims FROM {TABLE} "
            "WHERE state = ? AND reserved_at <= ? ORDER BY reserved_at",
            (RESERVED, cutoff),
        )
        return [Reservation(*row) for row in rows]

    def expire(self, older_than_s: float) -> int:
        cutoff = self._now_ms() - round(older_than_s * 1000)
        with self._immediate() as conn:
            cursor = conn.execute(
                f"DELETE FROM {TABLE} WHERE state = ? AND confirmed_at < ?", (DONE, cutoff)
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

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # Each connection serves its own thread; `close` may run elsewhere, hence no check.
            conn = sqlite3.connect(
                self.path, isolation_level=None, timeout=30.0, check_same_thread=False
            )
            conn.execute("PRAGMA busy_timeout = 30000")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
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
