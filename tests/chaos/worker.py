"""One process of a chaos-suite service, run the way a deployment runs one (`serve`: JSON logs,
the failure policies, SIGTERM handling):

    python -m tests.chaos.worker ordered|unordered

The environment says the rest: `CONVEYOR_*` as for any service, plus `CHAOS_SERVICE` (the
consumer group), `CHAOS_SINK` (a JSON-lines file every handling is appended to),
`CHAOS_STORE` (the SQLite idempotency store, which also holds the `effects` table the side
effect writes into) and `CHAOS_FAILING` (`key:seq,...`, the events that fail on every attempt).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from conveyor.idempotency import SqliteStore
from conveyor.policies import ordered, unordered
from conveyor.retry import Backoff, RetryPolicy
from conveyor.runtime import Context, Service
from conveyor.serve import serve
from conveyor.settings import Settings
from echo_sink import JsonLinesSink
from shop_events import UserSignedUp

# Short backoffs, so an event failing for good reaches the dead letters within a second or two.
ORDERED_RETRY = RetryPolicy(attempts=3, backoff=Backoff(delay=0.2, max_delay=1.0))
UNORDERED_RETRY = RetryPolicy(attempts=2, backoff=Backoff(delay=0.5, max_delay=1.0))
EFFECTS_DDL = "CREATE TABLE IF NOT EXISTS effects (event_id TEXT NOT NULL)"


class DownstreamRefusedError(ConnectionError):
    """What a chosen event's handler raises on every attempt."""


def failing_events(text: str) -> frozenset[tuple[str, int]]:
    """`user-3:15,user-40:15` -> {("user-3", 15), ("user-40", 15)}."""
    pairs = (item.rsplit(":", 1) for item in text.split(",") if item)
    return frozenset((key, int(seq)) for key, seq in pairs)


def build(mode: str, env: Mapping[str, str]) -> Service:
    store = SqliteStore(env["CHAOS_STORE"])
    sink = JsonLinesSink(Path(env["CHAOS_SINK"]))
    failing = failing_events(env.get("CHAOS_FAILING", ""))
    policy = ordered(ORDERED_RETRY) if mode == "ordered" else unordered(UNORDERED_RETRY)
    service = Service(env["CHAOS_SERVICE"])
    pid = os.getpid()

    @service.handler(UserSignedUp, policy=policy)
    def record(event: UserSignedUp, ctx: Context) -> None:
        seq = int(event.name)
        if (event.user_id, seq) in failing:
            raise DownstreamRefusedError("the downstream refuses this event")
        event_id = str(event.event_id)
        # the side effect and its processed mark commit in one transaction: once per event
        with store.transaction(ctx.service, event_id) as tx:
            if not tx.already_done:
                tx.connection.execute("INSERT INTO effects (event_id) VALUES (?)", (event_id,))
        sink.record(
            {
                "pid": pid,
                "key": event.user_id,
                "seq": seq,
                "event_id": event_id,
                "partition": ctx.meta.partition,
                "offset": ctx.meta.offset,
                "effect": not tx.already_done,
            }
        )

    return service


def main(argv: list[str]) -> int:
    [mode] = argv
    if mode not in {"ordered", "unordered"}:
        raise SystemExit(f"mode is ordered or unordered, not {mode!r}")
    env = os.environ
    return serve(build(mode, env), Settings.from_env(env), env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
