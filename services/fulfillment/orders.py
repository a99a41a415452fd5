"""The lines of placed orders, as fulfillment remembers them."""

from __future__ import annotations

import json
from pathlib import Path

from integrations.localdb import LocalDb

SCHEMA = """
CREATE TABLE IF NOT EXISTS order_lines (
    order_id  TEXT PRIMARY KEY,
    lines     TEXT NOT NULL         -- JSON: [{"sku": ..., "quantity": ...}]
);
"""

Lines = list[dict[str, object]]


class OrderBook:
    def __init__(self, path: Path) -> None:
        self._db = LocalDb(path, SCHEMA)

    def remember(self, order_id: str, lines: Lines) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO order_lines VALUES (?, ?)", (order_id, json.dumps(lines))
            )

    def lines(self, order_id: str) -> Lines | None:
        rows = self._db.query("SELECT lines FROM order_lines WHERE order_id = ?", (order_id,))
        if not rows:
            return None
        lines: Lines = json.loads(str(rows[0][0]))
        return lines

    def close(self) -> None:
        self._db.close()
