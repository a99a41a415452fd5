"""Where a gateway process's outbox relay runs: a thread of its own (`RelayThread`), or a child
process (`gateway.relay_process.RelayProcess`, PostgreSQL). Both relay, or stand by while
another process holds the outbox's lock, and report to `on_report(backlog)` while relaying and
`on_report(None)` while standing by."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import structlog

from conveyor.outbox import SQLITE, Backlog, OutboxRelay, RelayLockedError
from conveyor.typing import Codec
from gateway import logs
from gateway.database import Database
from gateway.notify import CommitListener

if TYPE_CHECKING:
    from gateway.service import GatewayConfig

log = structlog.get_logger("gateway")
Report = Callable[[Backlog | None], None]


def relay_until_stopped(
    relay: OutboxRelay, stop: threading.Event, standby_retry: float, on_standby: Callable[[], None]
) -> None:
    """Relay; while another process relays this outbox, stand by and try again every
    `standby_retry` seconds, so one of them takes over when that one ends."""
    while not stop.is_set():
        try:
            relay.run(stop)
        except RelayLockedError:
            on_standby()
            log.info(logs.RELAY_STANDBY, retry_in=standby_retry)
            stop.wait(standby_retry)


class RelayThread:
    """The relay on a thread of this process; on PostgreSQL with a thread that listens for the
    other processes' commits (`NOTIFY`)."""

    def __init__(
        self,
        relay: OutboxRelay,
        listener: CommitListener | None,
        stop: threading.Event,
        standby_retry: float,
        on_report: Report,
    ) -> None:
        self._relay = relay
        self._listener = listener
        self._stop = stop
        self._standby_retry = standby_retry
        self._on_report = on_report
        self._thread = threading.Thread(target=self._run, name="outbox-relay")

    @classmethod
    def for_gateway(
        cls,
        db: Database,
        config: GatewayConfig,
        codec: Codec,
        stop: threading.Event,
        on_report: Report,
    ) -> RelayThread:
        """The relay of `config`'s outbox in `db`; on PostgreSQL with its `NOTIFY` listener."""
        relay = OutboxRelay(
            db.outbox,
            db.connect_relay,
            config.publisher,
            codec,
            config=config.relay,
            on_backlog=on_report,
            write_lock=db.write_lock,
        )
        listener = None
        if db.dialect is not SQLITE:
            listener = CommitListener(config.database_url, db.outbox.name, relay.wake, stop)
        return cls(relay, listener, stop, config.relay_standby_retry, on_report)

    def start(self) -> None:
        self._thread.start()
        if self._listener is not None:
            self._listener.start()

    def wake(self) -> None:
        self._relay.wake()

    def alive(self) -> bool:
        return self._thread.is_alive()

    def wait(self) -> None:
        """Block until the relay ends: `stop` was set, or it crashed."""
        self._thread.join()

    def stop(self) -> None:
        """Once the gateway's stop event is set: let the relay settle what is in flight."""
        self._relay.wake()
        if self._thread.is_alive():
            self._thread.join()
        if self._listener is not None:
            self._listener.join()

    def _run(self) -> None:
        try:
            relay_until_stopped(
                self._relay, self._stop, self._standby_retry, lambda: self._on_report(None)
            )
        except Exception:
            log.exception(logs.RELAY_CRASHED)
            raise
        finally:
            self._on_report(None)
