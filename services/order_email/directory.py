"""Who to write to about an order: users by id, and each order's owner and amount."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from conveyor.errors import ConveyorError
from integrations.localdb import LocalDb

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    user_id  TEXT PRIMARY KEY,
    email    TEXT NOT NULL,
    name     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    order_id  TEXT PRIMARY KEY,
    user_id   TEXT NOT NULL,
    total     INTEGER NOT NULL,
    currency  TEXT NOT NULL
);
"""


class RecipientUnknownError(ConveyorError):
    """The order or its customer is not in the directory yet: worth retrying."""


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    total: int
    currency: str


class Directory:
    def __init__(self, path: Path) -> None:
        self._db = LocalDb(path, SCHEMA)

    def add_user(self, user_id: str, email: str, name: str) -> None:
        with self._db.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO users VALUES (?, ?, ?)", (user_id, email, name))

    def add_order(self, order_id: str, user_id: str, total: int, currency: str) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO orders VALUES (?, ?, ?, ?)",
                (order_id, user_id, total, currency),
            )

    def recipient(self, order_id: str) -> Recipient:
        rows = self._db.query(
            "SELECT u.email, u.name, o.total, o.currency FROM orders o "
            "JOIN users u ON u.user_id = o.user_id WHERE o.order_id = ?",
            (order_id,),
        )
        if not rows:
            raise RecipientUnknownError(f"no known customer for order {order_id} yet")
        email, name, total, currency = rows[0]
        return Recipient(str(email), str(name), int(str(total)), str(currency))

    def close(self) -> None:
        self._db.close()
