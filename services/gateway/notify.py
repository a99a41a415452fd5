"""Waking the outbox relay at commit when it runs in another process (PostgreSQL).

Each writer's transaction that adds outbox rows also runs `NOTIFY <outbox table>` (PostgreSQL
delivers it at commit, once per transaction), and each gateway process listens on its own
connection and wakes its relay. So the process that holds the relay's lock publishes the rows
other processes (workers, replicas) wrote at once, instead of finding them on its idle poll.
Within one process the writer wakes the relay directly as well; SQLite needs neither (one
process).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg
import structlog

from gateway import logs

log = structlog.get_logger("gateway")
_WAIT = 0.5  # how often the listener looks at its stop flag
_RETRY = 1.0  # pause before listening again after the connection failed


def notify_statement(channel: str) -> str:
    """What a writer runs in its transaction; `channel` is a plain identifier (the table's)."""
    return f"NOTIFY {channel}"


class CommitListener:
    """A thread that calls `wake()` for each notification on `channel`, until `stop` is set."""

    def __init__(
        self, url: str, channel: str, wake: Callable[[], None], stop: threading.Event
    ) -> None:
        self._url = url
        self._channel = channel
        self._wake = wake
        self._stop = stop
        self._thread = threading.Thread(target=self._run, name="outbox-listener", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self) -> None:
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {self._channel}")
                    self._wake()  # rows committed before LISTEN took effect
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=_WAIT):
                            self._wake()
            except psycopg.Error as exc:
                log.warning(logs.LISTEN_FAILED, error=type(exc).__name__)
                self._stop.wait(_RETRY)
