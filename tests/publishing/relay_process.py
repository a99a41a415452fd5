"""A relay in a process of its own, for the SIGKILL test: `python -m tests.publishing.relay_process
URL TABLE BOOTSTRAP BATCH` relays until SIGTERM."""

from __future__ import annotations

import signal
import sys
import threading

from conveyor.outbox import OutboxRelay, RelayConfig
from conveyor.publish import PublisherConfig
from tests.project import repo_codec
from tests.publishing.outbox_db import OutboxDb


def main(url: str, table: str, bootstrap: str, batch: str) -> int:
    db = OutboxDb(url, table)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    relay = OutboxRelay(
        db.table,
        db.connect,
        PublisherConfig(bootstrap_servers=bootstrap),
        repo_codec(),
        config=RelayConfig(batch_size=int(batch), idle_interval=0.05),
    )
    relay.run(stop)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
