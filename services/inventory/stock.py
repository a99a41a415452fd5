"""Stock levels and reservations, in the same SQLite file as the service's processed-event marks:
each change commits in one transaction with its event's mark (`SqliteStore.transaction`), so a
redelivered event changes nothing twice and a crash leaves neither without the other."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from conveyor.idempotency import SqliteStore
from integrations.localdb import LocalDb
from inventory.errors import OutOfStockError, StockConfigError

SCHEMA = """
CREATE TABLE IF NOT EXISTS stock (
    sku        TEXT PRIMARY KEY,
    available  INTEGER NOT NULL CHECK (available >= 0)
);
CREATE TABLE IF NOT EXISTS reservations (
    order_id   TEXT NOT NULL,
    sku        TEXT NOT NULL,
    quantity   INTEGER NOT NULL,
    PRIMARY KEY (order_id, sku)
);
"""

Line = tuple[str, int]  # (sku, quantity)


def parse_stock(text: str) -> dict[str, int]:
    """`"BOOK=500,MUG=200"` -> {"BOOK": 500, "MUG": 200}."""
    stock: dict[str, int] = {}
    for pair in filter(None, (part.strip() for part in text.split(","))):
        sku, sep, quantity = pair.partition("=")
        if not sep or not sku.strip() or not quantity.strip().isdigit():
            raise StockConfigError(f"INVENTORY_STOCK entries are SKU=quantity, not {pair!r}")
        stock[sku.strip()] = int(quantity)
    return stock


class StockLedger:
    """Writes go through `store.transaction` (mark and change together); set-up and reads use a
    connection of their own to the same file."""

    def __init__(self, store: SqliteStore, service: str) -> None:
        self._store = store
        self._service = service
        self._db = LocalDb(Path(store.path), SCHEMA)

    def stock_up(self, initial: Mapping[str, int]) -> None:
        """Add SKUs not yet known at these levels; known SKUs keep their current level."""
        with self._db.transaction() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO stock (sku, available) VALUES (?, ?)", initial.items()
            )

    def reserve(self, event_id: str, order_id: str, lines: Iterable[Line]) -> bool:
        """Reserve every line or none; False when the event was processed before."""
        with self._store.transaction(self._service, event_id) as tx:
            if tx.already_done:
                return False
            conn = tx.connection
            for sku, quantity in _merged(lines).items():
                row = conn.execute("SELECT available FROM stock WHERE sku = ?", (sku,)).fetchone()
                available = row[0] if row else 0
                if available < quantity:
                    raise OutOfStockError(order_id, sku, quantity, available)
                conn.execute(
                    "UPDATE stock SET available = available - ? WHERE sku = ?", (quantity, sku)
                )
                conn.execute(
                    "INSERT INTO reservations (order_id, sku, quantity) VALUES (?, ?, ?)",
                    (order_id, sku, quantity),
                )
            return True

    def release(self, event_id: str, order_id: str) -> int:
        """Give back what `order_id` reserved (if anything); returns the units released."""
        with self._store.transaction(self._service, event_id) as tx:
            if tx.already_done:
                return 0
            conn = tx.connection
            lines = conn.execute(
                "SELECT sku, quantity FROM reservations WHERE order_id = ?", (order_id,)
            ).fetchall()
            conn.executemany(
                "UPDATE stock SET available = available + ? WHERE sku = ?",
                [(quantity, sku) for sku, quantity in lines],
            )
            conn.execute("DELETE FROM reservations WHERE order_id = ?", (order_id,))
            return sum(quantity for _, quantity in lines)

    def reserved(self) -> dict[str, dict[str, int]]:
        """order id -> {sku: quantity} of every open reservation."""
        result: dict[str, dict[str, int]] = {}
        for order_id, sku, quantity in self._db.query("SELECT * FROM reservations"):
            result.setdefault(str(order_id), {})[str(sku)] = int(str(quantity))
        return result

    def available(self) -> dict[str, int]:
        return {str(sku): int(str(n)) for sku, n in self._db.query("SELECT * FROM stock")}

    def close(self) -> None:
        self._db.close()


def _merged(lines: Iterable[Line]) -> dict[str, int]:
    merged: dict[str, int] = {}
    for sku, quantity in lines:
        merged[sku] = merged.get(sku, 0) + quantity
    return merged
