"""The outbox table: rows written in the caller's transaction, read and marked by the relay."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from conveyor.outbox.dialect import Dialect, SqlConnection
from conveyor.publish.message import Headers, OutgoingMessage

DEFAULT_TABLE = "conveyor_outbox"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One pending event and when it was written."""

    id: int
    message: OutgoingMessage
    created_at: float


@dataclass(frozen=True, slots=True)
class Backlog:
    """Events written but not yet confirmed by the broker, and the age of the oldest."""

    pending: int
    oldest_age: float  # seconds; 0 when nothing is pending


class OutboxTable:
    """The statements of one outbox table in one database dialect. Never commits for writers."""

    def __init__(self, dialect: Dialect, name: str = DEFAULT_TABLE) -> None:
        if not _IDENTIFIER.match(name):
            raise ValueError(f"not a plain SQL identifier: {name!r}")
        self.dialect = dialect
        self.name = name

    def _sql(self, template: str) -> str:
        return template.replace("{t}", self.name)

    def create(self, conn: SqlConnection) -> None:
        """Create the table and its pending-rows index if missing (in the caller's transaction)."""
        for statement in self.dialect.create:
            conn.execute(self._sql(statement))

    def insert(self, conn: SqlConnection, message: OutgoingMessage) -> None:
        headers = json.dumps([[name, _text(value)] for name, value in message.headers])
        conn.execute(
            self._sql(self.dialect.insert),
            (
                message.event_id,
                message.event_type,
                message.topic,
                message.key,
                message.value,
                headers,
                time.time(),
            ),
        )

    def pending(
        self, conn: SqlConnection, limit: int, excluding: Sequence[int] = ()
    ) -> list[OutboxRow]:
        """The oldest unsent rows but those of `excluding` (ids in flight), in id order."""
        params = (self.dialect.id_list(excluding), limit)
        rows = conn.execute(self._sql(self.dialect.pending), params).fetchall()
        return [_row(row) for row in rows]

    def mark_sent(self, conn: SqlConnection, ids: Sequence[int]) -> None:
        conn.execute(self._sql(self.dialect.mark_sent), (time.time(), self.dialect.id_list(ids)))

    def backlog(self, conn: SqlConnection) -> Backlog:
        count, oldest = conn.execute(self._sql(self.dialect.backlog)).fetchone()
        age = max(0.0, time.time() - oldest) if oldest is not None else 0.0
        return Backlog(pending=int(count), oldest_age=age)

    def prune(self, conn: SqlConnection, sent_before: float) -> int:
        """Delete rows sent before `sent_before` (epoch seconds); returns how many."""
        cursor = conn.execute(self._sql(self.dialect.prune), (sent_before,))
        return int(cursor.rowcount)

    def try_lock(self, conn: SqlConnection) -> bool:
        """Take the table's relay lock where the database has one (PostgreSQL)."""
        if self.dialect.try_lock is None:
            return True
        return bool(conn.execute(self.dialect.try_lock, (self.name,)).fetchone()[0])


def _text(value: str | bytes | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def _row(row: Sequence[Any]) -> OutboxRow:
    row_id, event_id, event_type, topic, key, value, headers, created_at = row
    decoded: Headers = [(name, v) for name, v in json.loads(headers)]
    message = OutgoingMessage(
        topic=topic,
        key=bytes(key),
        value=bytes(value),
        headers=decoded,
        event_id=event_id,
        event_type=event_type,
    )
    return OutboxRow(id=int(row_id), message=message, created_at=float(created_at))
