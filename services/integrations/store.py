"""The reference services' processed-event store (their handler policies come from
`conveyor.policies`: `ordered`, `unordered`, `declared_retry`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from conveyor.idempotency import ProcessedEventStore, open_store

# A reservation older than this is taken to be left by a killed process and is reclaimed; sending
# one e-mail takes well under a second. It must be shorter than the retry tiers' total wait, or
# an event in flight at a crash would run out of attempts meanwhile.
STALE_AFTER = 20.0


def processed_store(env: Mapping[str, str], state_dir: Path, service: str) -> ProcessedEventStore:
    """`CONVEYOR_IDEMPOTENCY_URL` (`sqlite:///...` or `postgresql://...`), else a SQLite file
    `<state dir>/<service>/processed.sqlite3`."""
    url = env.get("CONVEYOR_IDEMPOTENCY_URL")
    if not url:
        path = state_dir / service / "processed.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{path}"
    return open_store(url, stale_after=STALE_AFTER)
