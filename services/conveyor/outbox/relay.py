"""The relay: publishes outbox rows in write order and marks them sent once the broker confirms.

Order per key holds because rows go out in id order through one idempotent producer that may not
skip a failed message (`enable.gapless.guarantee`), and because after any failure the relay
closes that producer, lets every message still in flight settle, and starts again from the first
unconfirmed row with a new one. A crash between delivery and marking re-sends rows with the same
`event_id` (duplicates, never gaps or reordering); consumers drop them by id.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from conveyor.outbox.dialect import SqlConnection
from conveyor.outbox.errors import RelayLockedError
from conveyor.outbox.table import Backlog, OutboxRow, OutboxTable
from conveyor.publish.config import PublisherConfig
from conveyor.publish.errors import PublishError
from conveyor.publish.publisher import Publisher
from conveyor.typing import Codec

log = structlog.get_logger("conveyor.outbox")

BacklogObserver = Callable[[Backlog], None]


@dataclass(frozen=True)
class RelayConfig:
    batch_size: int = 500
    idle_interval: float = 0.2  # how often an idle relay looks for rows nobody woke it for
    backlog_interval: float = 1.0
    retry_backoff: float = 0.5  # first pause after a failed batch, doubling up to the max
    retry_backoff_max: float = 10.0
    keep_sent: float = 3600.0  # seconds a sent row stays before it is pruned
    prune_interval: float = 60.0


class OutboxRelay:
    """Moves committed outbox rows to Kafka; run one per outbox table (`run` in a thread)."""

    def __init__(
        self,
        table: OutboxTable,
        connect: Callable[[], SqlConnection],
        publisher_config: PublisherConfig,
        codec: Codec,
        *,
        config: RelayConfig = RelayConfig(),
        on_backlog: BacklogObserver | None = None,
    ) -> None:
        self.table = table
        self.config = config
        self._connect = connect
        # The relay's producer may not skip a timed-out message: a gap would reorder a key.
        self._publisher_config = dataclasses.replace(publisher_config, gapless=True)
        self._codec = codec
        self._on_backlog = on_backlog
        self._wakeup = threading.Event()
        self._conn: SqlConnection | None = None
        self._publisher: Publisher | None = None
        self.backlog = Backlog(pending=0, oldest_age=0.0)

    def wake(self) -> None:
        """Tell the relay rows were committed, so it need not wait for its idle interval."""
        self._wakeup.set()

    def run(self, stop: threading.Event) -> None:
        """Relay until `stop` is set, then close the producer (flushing what is in flight)."""
        conn = self._open()
        backoff = self.config.retry_backoff
        next_backlog = next_prune = 0.0
        log.info("outbox.relay_started", table=self.table.name)
        try:
            while not stop.is_set():
                now = time.monotonic()
                if now >= next_backlog:
                    self._report_backlog(conn)
                    next_backlog = now + self.config.backlog_interval
                if now >= next_prune:
                    self._prune(conn)
                    next_prune = now + self.config.prune_interval
                try:
                    sent = self.relay_batch(conn)
                except PublishError as exc:
                    log.warning("outbox.batch_failed", error=type(exc).__name__, reason=str(exc))
                    self._reset_publisher()
                    stop.wait(backoff)
                    backoff = min(backoff * 2, self.config.retry_backoff_max)
                    continue
                backoff = self.config.retry_backoff
                if sent < self.config.batch_size:
                    self._wakeup.wait(self.config.idle_interval)
                    self._wakeup.clear()
        finally:
            self._reset_publisher()
            _close(conn)
            log.info("outbox.relay_stopped", table=self.table.name)

    def relay_batch(self, conn: SqlConnection) -> int:
        """Publish the oldest pending rows and mark the confirmed prefix sent; returns how many
        were marked. Raises the first delivery error (after marking what came before it)."""
        rows = self.table.pending(conn, self.config.batch_size)
        conn.commit()
        if not rows:
            return 0
        publisher = self._ensure_publisher()
        confirmed: list[int] = []
        try:
            handles = [publisher.send(row.message) for row in rows]
            wait = self._publisher_config.delivery_timeout + 5.0
            for row, handle in zip(rows, handles, strict=False):
                handle.wait(wait)
                confirmed.append(row.id)
        finally:
            self._mark_sent(conn, confirmed, rows)
        return len(confirmed)

    def _mark_sent(self, conn: SqlConnection, ids: list[int], rows: list[OutboxRow]) -> None:
        if not ids:
            return
        self.table.mark_sent(conn, ids)
        conn.commit()
        oldest = rows[0].created_at
        log.debug("outbox.relayed", count=len(ids), lag=round(time.time() - oldest, 3))

    def _open(self) -> SqlConnection:
        conn = self._connect()
        locked = self.table.try_lock(conn)
        conn.commit()
        if not locked:
            _close(conn)
            raise RelayLockedError(f"another relay is publishing the outbox {self.table.name!r}")
        return conn

    def _ensure_publisher(self) -> Publisher:
        if self._publisher is None:
            self._publisher = Publisher(self._publisher_config, self._codec)
        return self._publisher

    def _reset_publisher(self) -> None:
        """Close the producer, waiting (bounded by the delivery timeout) for what is in flight,
        so nothing of a failed batch can land after the rows sent again."""
        publisher, self._publisher = self._publisher, None
        if publisher is not None:
            publisher.close(self._publisher_config.delivery_timeout)

    def _report_backlog(self, conn: SqlConnection) -> None:
        self.backlog = self.table.backlog(conn)
        conn.commit()
        if self._on_backlog is not None:
            self._on_backlog(self.backlog)

    def _prune(self, conn: SqlConnection) -> None:
        removed = self.table.prune(conn, time.time() - self.config.keep_sent)
        conn.commit()
        if removed:
            log.info("outbox.pruned", count=removed)


def _close(conn: SqlConnection) -> None:
    close = getattr(conn, "close", None)
    if callable(close):
        close()
