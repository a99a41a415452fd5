"""A service process for the SIGKILL test: each event inserts one row through the store's
transaction, and every invocation is appended to a log (so redeliveries are visible).

    python -m tests.failures.idempotent_worker BOOTSTRAP TOPIC STORE_URL TABLE LOG
"""

from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from conveyor.idempotency import SqliteStore
from conveyor.idempotency.postgres import PostgresStore
from conveyor.policies import Policies
from conveyor.runtime import Context, Service, run_service
from conveyor.settings import Settings
from tests.failures.support import fast_policy_settings
from tests.runtime.support import Ping, PingCodec


def main(bootstrap: str, topic: str, store_url: str, table: str, log_path: str) -> int:
    store: Any
    if store_url.startswith("sqlite:///"):
        store = SqliteStore(store_url.removeprefix("sqlite:///"))
    else:
        store = PostgresStore(store_url)
    service = Service(f"s-{topic}")
    log = Path(log_path).open("a", buffering=1)  # noqa: SIM115 - lives as long as the process

    @service.handler(Ping)
    def record(event: Ping, ctx: Context) -> None:
        log.write(f"{event.event_id}\n")
        with store.transaction(ctx.service, str(event.event_id)) as tx:
            if not tx.already_done:
                marker = "?" if isinstance(tx.connection, sqlite3.Connection) else "%s"
                tx.connection.execute(
                    f"INSERT INTO {table} (event_id) VALUES ({marker})", (str(event.event_id),)
                )
        time.sleep(0.005)  # slow enough that a kill lands mid-stream

    settings = Settings.from_env({"KAFKA_BOOTSTRAP_SERVERS": bootstrap})
    return run_service(
        service,
        settings,
        fast_policy_settings(topic),
        PingCodec(),
        extension=Policies(bootstrap),
    )


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
