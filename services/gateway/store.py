"""The gateway's own records (users, orders), written with their events in one transaction."""

from __future__ import annotations

import sqlite3
import time

import psycopg

from conveyor.lanes import Lanes
from conveyor.outbox import Outbox, SqlConnection
from gateway.errors import (
    DuplicateEmailError,
    OrderAlreadyCancelledError,
    UnknownOrderError,
    UnknownUserError,
)
from shop_events import OrderCancelled, OrderPlaced, UserSignedUp

PLACED = "placed"
CANCELLED = "cancelled"


class Store:
    """Domain writes; each method runs inside the caller's transaction and adds the event to
    the outbox there, so the event exists if and only if the write commits."""

    def __init__(self, outbox: Outbox, placeholder: str, lanes: Lanes | None = None) -> None:
        """`lanes`: those of the order topic, if it has any: an order's cancel goes to the lane
        its priority named, so that it never overtakes the order's placement."""
        self.outbox = outbox
        self._p = placeholder
        self._lanes = lanes

    def _sql(self, statement: str) -> str:
        return statement.replace("?", self._p)

    def sign_up(self, conn: SqlConnection, event: UserSignedUp) -> None:
        try:
            conn.execute(
                self._sql(
                    "INSERT INTO gateway_users (user_id, email, name, referral_code, created_at)"
                    " VALUES (?, ?, ?, ?, ?)"
                ),
                (event.user_id, event.email.lower(), event.name, event.referral_code, time.time()),
            )
        except (sqlite3.IntegrityError, psycopg.errors.UniqueViolation) as exc:
            raise DuplicateEmailError("a user with this e-mail address exists") from exc
        self.outbox.add(conn, event)

    def place_order(self, conn: SqlConnection, event: OrderPlaced) -> None:
        # The foreign key answers whether the user exists, in the insert's own round trip.
        try:
            conn.execute(
                self._sql(
                    "INSERT INTO gateway_orders"
                    " (order_id, user_id, currency, total, status, created_at, priority)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)"
                ),
                (
                    event.order_id,
                    event.user_id,
                    event.currency,
                    event.total,
                    PLACED,
                    time.time(),
                    event.priority.value,
                ),
            )
        except (sqlite3.IntegrityError, psycopg.errors.ForeignKeyViolation) as exc:
            # (The order id is new, so the only constraint it can break is the user's.)
            raise UnknownUserError(f"no user {event.user_id!r}") from exc
        self.outbox.add(conn, event)

    def cancel_order(self, conn: SqlConnection, event: OrderCancelled) -> None:
        row = conn.execute(
            self._sql("SELECT priority FROM gateway_orders WHERE order_id = ?"),
            (event.order_id,),
        ).fetchone()
        if row is None:
            raise UnknownOrderError(f"no order {event.order_id!r}")
        lane = self._lanes.lane_of(row[0]) if self._lanes is not None else None
        # The conditional update makes two concurrent cancellations emit one event.
        # (RETURNING, not the cursor's rowcount: a pipelined statement has no count until its
        # result is read, and fetching reads it.)
        updated = conn.execute(
            self._sql(
                "UPDATE gateway_orders SET status = ? WHERE order_id = ? AND status = ?"
                " RETURNING order_id"
            ),
            (CANCELLED, event.order_id, PLACED),
        ).fetchall()
        if len(updated) != 1:
            raise OrderAlreadyCancelledError(f"order {event.order_id!r} is cancelled already")
        self.outbox.add(conn, event, lane=lane)
