"""The reference services' processed-event store (their handler policies come from
`conveyor.policies`: `ordered`, `unordered`, `declared_retry`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from conveyor.environment import EnvModel, variable
from conveyor.idempotency import ProcessedEventStore, open_store

# A reservation older than this is taken to be left by a killed process and is reclaimed; sending
# one e-mail takes well under a second. It must be shorter than the retry tiers' total wait, or
# an event in flight at a crash would run out of attempts meanwhile.
STALE_AFTER = 20.0


class StoreVariables(EnvModel):
    """Where the reference services mark the events they processed."""

    url: str | None = variable(
        "CONVEYOR_IDEMPOTENCY_URL",
        None,
        shown="<state dir>/<service>/processed.sqlite3",
        description="The processed-event store: `sqlite:///...` or `postgresql://...`.",
        example="sqlite:////tmp/processed.sqlite3",
    )


def processed_store(env: Mapping[str, str], state_dir: Path, service: str) -> ProcessedEventStore:
    """The store `StoreVariables` name, else a SQLite file in the state directory."""
    url = StoreVariables.from_env(env).url
    if not url:
        path = state_dir / service / "processed.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{path}"
    return open_store(url, stale_after=STALE_AFTER)
