"""The SQL the outbox needs, once per database: SQLite and PostgreSQL.

Times are stored as epoch seconds (floating point) in both, so the relay's arithmetic is the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class SqlConnection(Protocol):
    """What the outbox uses of a DB-API connection (`sqlite3` and `psycopg` both fit)."""

    def execute(self, query: Any, params: Any = ..., /) -> Any: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


@dataclass(frozen=True)
class Dialect:
    """One database's spelling of the outbox statements; `{t}` is the table name."""

    name: str
    create: Sequence[str]
    insert: str
    pending: str
    mark_sent: str
    backlog: str
    prune: str
    id_list: Callable[[Sequence[int]], Any]
    try_lock: str | None = None


_PENDING = (
    "SELECT id, event_id, event_type, topic, msg_key, value, headers, created_at FROM {t}"
    " WHERE sent_at IS NULL AND {not_in} ORDER BY id LIMIT {p}"
)
_BACKLOG = "SELECT count(*), min(created_at) FROM {t} WHERE sent_at IS NULL"
_INSERT = (
    "INSERT INTO {t} (event_id, event_type, topic, msg_key, value, headers, created_at)"
    " VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p})"
)
_PRUNE = "DELETE FROM {t} WHERE sent_at IS NOT NULL AND sent_at < {p}"


def _create(identity: str, binary: str, real: str) -> tuple[str, str]:
    """The table and its pending-rows index, in one database's column types."""
    return (
        "CREATE TABLE IF NOT EXISTS {t} ("
        f" id {identity},"
        " event_id TEXT NOT NULL UNIQUE,"
        " event_type TEXT NOT NULL,"
        " topic TEXT NOT NULL,"
        f" msg_key {binary} NOT NULL,"
        f" value {binary} NOT NULL,"
        " headers TEXT NOT NULL,"
        f" created_at {real} NOT NULL,"
        f" sent_at {real})",
        "CREATE INDEX IF NOT EXISTS {t}_pending ON {t} (id) WHERE sent_at IS NULL",
    )


SQLITE = Dialect(
    name="sqlite",
    create=_create(identity="INTEGER PRIMARY KEY AUTOINCREMENT", binary="BLOB", real="REAL"),
    insert=_INSERT.replace("{p}", "?"),
    pending=_PENDING.replace("{not_in}", "id NOT IN (SELECT value FROM json_each(?))").replace(
        "{p}", "?"
    ),
    mark_sent="UPDATE {t} SET sent_at = ? WHERE id IN (SELECT value FROM json_each(?))",
    backlog=_BACKLOG,
    prune=_PRUNE.replace("{p}", "?"),
    id_list=lambda ids: json.dumps(list(ids)),
)

POSTGRES = Dialect(
    name="postgresql",
    create=_create(
        identity="BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        binary="BYTEA",
        real="DOUBLE PRECISION",
    ),
    insert=_INSERT.replace("{p}", "%s"),
    pending=_PENDING.replace("{not_in}", "id <> ALL(%s::bigint[])").replace("{p}", "%s"),
    mark_sent="UPDATE {t} SET sent_at = %s WHERE id = ANY(%s)",
    backlog=_BACKLOG,
    prune=_PRUNE.replace("{p}", "%s"),
    id_list=list,
    # A session lock: released when the relay's connection ends, even after SIGKILL.
    try_lock="SELECT pg_try_advisory_lock(hashtext(%s))",
)
