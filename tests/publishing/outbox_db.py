"""Outbox databases for the tests: a SQLite file or a PostgreSQL table of its own, by URL."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import psycopg

from conveyor.outbox import POSTGRES, SQLITE, OutboxTable, SqlConnection


@dataclass(frozen=True)
class OutboxDb:
    url: str  # sqlite:///PATH or postgresql://...
    table_name: str

    @property
    def table(self) -> OutboxTable:
        return OutboxTable(SQLITE if self.url.startswith("sqlite") else POSTGRES, self.table_name)

    def connect(self) -> SqlConnection:
        if self.url.startswith("sqlite:///"):
            conn = sqlite3.connect(self.url.removeprefix("sqlite:///"), timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            return conn
        pg: SqlConnection = psycopg.connect(self.url)
        return pg

    def count(self, where: str = "1=1") -> int:
        conn = self.connect()
        try:
            (n,) = conn.execute(f"SELECT count(*) FROM {self.table_name} WHERE {where}").fetchone()
            conn.commit()
            return int(n)
        finally:
            conn.close()  # type: ignore[attr-defined]

    def drop(self) -> None:
        if self.url.startswith("postgres"):
            conn = self.connect()
            conn.execute(f"DROP TABLE IF EXISTS {self.table_name}")
            conn.commit()
            conn.close()  # type: ignore[attr-defined]
