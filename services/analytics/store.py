"""The analytics table: one row per event (event id is the primary key, so a redelivered batch
changes nothing), and the totals computed from it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from conveyor.events import Event
from integrations.localdb import LocalDb
from shop_events import (
    OrderCancelled,
    OrderPaid,
    OrderPaymentFailed,
    OrderPlaced,
    OrderShipped,
    UserSignedUp,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS analytics_events (
    event_id    TEXT PRIMARY KEY,
    event_type  TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    hour        TEXT NOT NULL,      -- occurred_at truncated to the hour, ISO 8601 UTC
    amount      INTEGER,            -- minor units, for orders and payments
    currency    TEXT
);
CREATE INDEX IF NOT EXISTS analytics_events_by_type_hour ON analytics_events (event_type, hour);
"""

ANALYSED = (UserSignedUp, OrderPlaced, OrderPaid, OrderPaymentFailed, OrderShipped, OrderCancelled)


@dataclass(frozen=True)
class Fact:
    event_id: str
    event_type: str
    entity_id: str
    hour: str
    amount: int | None
    currency: str | None


def _hour(moment: datetime) -> str:
    return moment.replace(minute=0, second=0, microsecond=0).isoformat()


def fact_of(event: Event) -> Fact:
    amount: int | None = None
    currency: str | None = None
    if isinstance(event, OrderPlaced):
        amount, currency = event.total, event.currency
    elif isinstance(event, OrderPaid):
        amount, currency = event.amount, event.currency
    return Fact(
        str(event.event_id),
        type(event).__name__,
        event.key,
        _hour(event.occurred_at),
        amount,
        currency,
    )


@dataclass(frozen=True)
class Totals:
    """Counts by event type, per-hour counts of signups and orders, and revenue by currency."""

    by_type: dict[str, int]
    signups_per_hour: dict[str, int]
    orders_per_hour: dict[str, int]
    revenue: dict[str, int]  # paid amounts, minor units, by currency


class AnalyticsStore:
    def __init__(self, path: Path) -> None:
        self._db = LocalDb(path, SCHEMA)

    def load(self, facts: Iterable[Fact]) -> int:
        """Insert a batch in one transaction; rows already present are skipped. Returns how many
        were new."""
        rows = [
            (f.event_id, f.event_type, f.entity_id, f.hour, f.amount, f.currency) for f in facts
        ]
        with self._db.transaction() as conn:
            before = conn.total_changes
            conn.executemany(
                "INSERT OR IGNORE INTO analytics_events VALUES (?, ?, ?, ?, ?, ?)", rows
            )
            return conn.total_changes - before

    def totals(self) -> Totals:
        by_type = self._counts("SELECT event_type, COUNT(*) FROM analytics_events GROUP BY 1")
        per_hour = "SELECT hour, COUNT(*) FROM analytics_events WHERE event_type = ? GROUP BY 1"
        revenue = self._counts(
            "SELECT currency, SUM(amount) FROM analytics_events "
            "WHERE event_type = 'OrderPaid' GROUP BY 1"
        )
        return Totals(
            by_type=by_type,
            signups_per_hour=self._counts(per_hour, ("UserSignedUp",)),
            orders_per_hour=self._counts(per_hour, ("OrderPlaced",)),
            revenue=revenue,
        )

    def _counts(self, sql: str, parameters: tuple[object, ...] = ()) -> dict[str, int]:
        return {str(key): int(str(value)) for key, value in self._db.query(sql, parameters)}

    def close(self) -> None:
        self._db.close()
