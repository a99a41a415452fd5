"""The gateway's database: SQLite (default) or PostgreSQL, with its tables and the outbox."""

from __future__ import annotations

import contextlib
import queue
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import psycopg

from conveyor.outbox import POSTGRES, SQLITE, Dialect, OutboxTable, SqlConnection
from gateway.errors import UnsupportedDatabaseError

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS gateway_users ("
    " user_id TEXT PRIMARY KEY,"
    " email TEXT NOT NULL UNIQUE,"
    " name TEXT NOT NULL,"
    " referral_code TEXT,"
    " created_at {time} NOT NULL)",
    "CREATE TABLE IF NOT EXISTS gateway_orders ("
    " order_id TEXT PRIMARY KEY,"
    " user_id TEXT NOT NULL REFERENCES gateway_users (user_id),"
    " currency TEXT NOT NULL,"
    " total BIGINT NOT NULL,"
    " status TEXT NOT NULL,"
    " created_at {time} NOT NULL)",
)


class Database:
    """A small pool of connections to one database; `transaction()` commits or rolls back."""

    def __init__(self, url: str, pool_size: int = 4) -> None:
        self.url = url
        self.dialect = _dialect(url)
        # SQLite serialises writers anyway: one pooled connection avoids "database is locked".
        size = 1 if self.dialect is SQLITE else pool_size
        # Held by every write transaction in this process, the relay's included (SQLite only:
        # PostgreSQL has row locks and needs no turn-taking).
        self.write_lock: AbstractContextManager[object] = (
            threading.Lock() if self.dialect is SQLITE else contextlib.nullcontext()
        )
        self._pool: queue.Queue[SqlConnection] = queue.Queue()
        for _ in range(size):
            self._pool.put(self.connect())
        self.outbox = OutboxTable(self.dialect)
        self.placeholder = "?" if self.dialect is SQLITE else "%s"

    def connect(self) -> SqlConnection:
        """A new connection (the relay gets its own)."""
        if self.dialect is SQLITE:
            path = self.url.removeprefix("sqlite:///")
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            return conn
        pg: SqlConnection = psycopg.connect(self.url)
        return pg

    def create_schema(self) -> None:
        time_type = "REAL" if self.dialect is SQLITE else "DOUBLE PRECISION"
        with self.transaction() as conn:
            for statement in SCHEMA:
                conn.execute(statement.replace("{time}", time_type))
            self.outbox.create(conn)

    @contextmanager
    def transaction(self) -> Iterator[SqlConnection]:
        conn = self._pool.get()
        try:
            with self.write_lock:
                yield conn
                conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            self._pool.put(conn)

    def ping(self) -> bool:
        """Whether the database answers a trivial query."""
        try:
            with self.transaction() as conn:
                conn.execute("SELECT 1").fetchone()
        except (sqlite3.Error, psycopg.Error, OSError):
            return False
        return True

    def close(self) -> None:
        while not self._pool.empty():
            conn = self._pool.get_nowait()
            close = getattr(conn, "close", None)
            if callable(close):
                close()


def _dialect(url: str) -> Dialect:
    if url.startswith("sqlite:///"):
        return SQLITE
    if url.startswith(("postgresql://", "postgres://")):
        return POSTGRES
    raise UnsupportedDatabaseError(
        f"unsupported database URL {url.split(':', 1)[0]!r}: use sqlite:///PATH or postgresql://..."
    )
