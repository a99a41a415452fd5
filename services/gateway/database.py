"""The gateway's database: SQLite (default) or PostgreSQL, with its tables and the outbox."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from contextlib import AbstractContextManager
from pathlib import Path

import psycopg

from conveyor.outbox import POSTGRES, SQLITE, Dialect, OutboxTable, SqlConnection
from gateway.errors import UnsupportedDatabaseError
from gateway.notify import notify_statement

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
    " created_at {time} NOT NULL,"
    " priority TEXT NOT NULL DEFAULT 'NORMAL')",
)
# Databases made before orders kept their priority (their cancels follow the order's lane).
_ORDER_PRIORITY = "ALTER TABLE gateway_orders ADD COLUMN priority TEXT NOT NULL DEFAULT 'NORMAL'"
DATABASE_ERRORS = (sqlite3.Error, psycopg.Error, OSError)


class Database:
    """Connections to one database, and how many writers it takes at once."""

    def __init__(self, url: str, writers: int = 1) -> None:
        """`writers`: writer threads on PostgreSQL. One is the default: a writer sends a whole
        group of requests and its commit in one exchange, so one keeps up with thousands of
        requests a second, and its commits hand out outbox ids in commit order. More shrink
        each group, add commits for the relay to follow, and contend for the interpreter
        lock with the event loop (`README`, "Processes, and more cores")."""
        self.url = url
        self.dialect = _dialect(url)
        # SQLite has one writer at a time anyway: a second writer thread would only wait.
        self.writers = 1 if self.dialect is SQLITE else writers
        # Held by every write transaction in this process, the relay's included (SQLite only:
        # PostgreSQL has row locks and needs no turn-taking).
        self.write_lock: AbstractContextManager[object] = (
            threading.Lock() if self.dialect is SQLITE else contextlib.nullcontext()
        )
        self.outbox = OutboxTable(self.dialect)
        self.placeholder = "?" if self.dialect is SQLITE else "%s"
        # PostgreSQL: run in each transaction that adds outbox rows, so the relay is woken at
        # commit in whichever process runs it (`gateway.notify`).
        self.notify = None if self.dialect is SQLITE else notify_statement(self.outbox.name)

    def connect(self) -> SqlConnection:
        """A new connection; each writer thread and the relay own one."""
        if self.dialect is SQLITE:
            path = self.url.removeprefix("sqlite:///")
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            # Checkpoints (the fsyncs of WAL mode) run on the checkpoint thread, not inside a
            # commit that requests or the relay wait for.
            conn.execute("PRAGMA wal_autocheckpoint=0")
            return conn
        pg: SqlConnection = psycopg.connect(self.url)
        return pg

    def connect_relay(self) -> SqlConnection:
        """The outbox relay's connection. On PostgreSQL in autocommit: each of the relay's
        statements is a transaction of its own (a read, the marking of a batch, a prune, the
        backlog), so a BEGIN before it and a COMMIT after it would each cost a round trip and
        add nothing. SQLite's module opens no transaction for a read, and its writes take the
        in-process lock anyway."""
        if self.dialect is SQLITE:
            return self.connect()
        pg: SqlConnection = psycopg.connect(self.url, autocommit=True)
        return pg

    def begin(self, conn: SqlConnection) -> None:
        """Open a write transaction (SQLite: take the write lock now, not at the first write;
        psycopg opens one by itself)."""
        if self.dialect is SQLITE:
            conn.execute("BEGIN IMMEDIATE")

    def batch(self, conn: SqlConnection) -> AbstractContextManager[object]:
        """Where the statements run on `conn` go to the server together, their results and
        errors read at the end (psycopg's pipeline mode: one exchange instead of one per
        statement; what reads a result waits for it). SQLite runs each statement in turn."""
        if isinstance(conn, psycopg.Connection):
            return conn.pipeline()
        return contextlib.nullcontext()

    def create_schema(self) -> None:
        time_type = "REAL" if self.dialect is SQLITE else "DOUBLE PRECISION"
        conn = self.connect()
        try:
            for statement in SCHEMA:
                conn.execute(statement.replace("{time}", time_type))
            self._add_order_priority(conn)
            self.outbox.create(conn)
            conn.commit()
        finally:
            close_connection(conn)

    def _add_order_priority(self, conn: SqlConnection) -> None:
        if self.dialect is not SQLITE:
            conn.execute(_ORDER_PRIORITY.replace("ADD COLUMN", "ADD COLUMN IF NOT EXISTS"))
            return
        columns = {row[1] for row in conn.execute("PRAGMA table_info(gateway_orders)")}
        if "priority" not in columns:
            conn.execute(_ORDER_PRIORITY)

    def ping(self) -> bool:
        """Whether the database answers a trivial query (on a connection of its own, so a
        probe neither waits for nor delays the writers)."""
        try:
            conn = self.connect()
            try:
                conn.execute("SELECT 1").fetchone()
                conn.rollback()
            finally:
                close_connection(conn)
        except DATABASE_ERRORS:
            return False
        return True

    def checkpoint(self, conn: SqlConnection) -> None:
        """Copy committed WAL pages into the SQLite file without waiting for readers or
        writers (PASSIVE); nothing to do for PostgreSQL."""
        if self.dialect is SQLITE:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()


def close_connection(conn: SqlConnection) -> None:
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
