"""The processed-event table and its statements, shared by the SQLite and PostgreSQL stores;
they differ only in the placeholder (`?` or `%s`) and the integer type of the timestamps."""

from __future__ import annotations

from dataclasses import dataclass

from conveyor.idempotency.base import TABLE


def schema(integer: str) -> str:
    """`CREATE TABLE` with timestamps (epoch milliseconds) of SQL type `integer`."""
    return f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    service TEXT NOT NULL,
    event_id TEXT NOT NULL,
    state TEXT NOT NULL,
    reserved_at {integer} NOT NULL,
    confirmed_at {integer},
    reclaims INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (service, event_id)
)
"""


@dataclass(frozen=True)
class Statements:
    """Each statement of the store, its parameters in the order the stores pass them."""

    reserve: str  # (service, event_id, state, reserved_at)
    select_mark: str  # (service, event_id) -> state, reserved_at
    reclaim: str  # (reserved_at, service, event_id)
    mark_done: str  # (service, event_id, state, reserved_at, confirmed_at)
    release: str  # (service, event_id, state)
    stale: str  # (state, cutoff) -> service, event_id, reserved_at, reclaims
    expire: str  # (state, cutoff)

    @classmethod
    def with_placeholder(cls, p: str) -> Statements:
        key = f"service = {p} AND event_id = {p}"
        return cls(
            reserve=f"INSERT INTO {TABLE} (service, event_id, state, reserved_at) "
            f"VALUES ({p}, {p}, {p}, {p})",
            select_mark=f"SELECT state, reserved_at FROM {TABLE} WHERE {key}",
            reclaim=f"UPDATE {TABLE} SET reserved_at = {p}, reclaims = reclaims + 1 WHERE {key}",
            mark_done=f"INSERT INTO {TABLE} (service, event_id, state, reserved_at, confirmed_at) "
            f"VALUES ({p}, {p}, {p}, {p}, {p}) ON CONFLICT (service, event_id) "
            "DO UPDATE SET state = excluded.state, confirmed_at = excluded.confirmed_at",
            release=f"DELETE FROM {TABLE} WHERE {key} AND state = {p}",
            stale=f"SELECT service, event_id, reserved_at, reclaims FROM {TABLE} "
            f"WHERE state = {p} AND reserved_at <= {p} ORDER BY reserved_at",
            expire=f"DELETE FROM {TABLE} WHERE state = {p} AND confirmed_at < {p}",
        )
