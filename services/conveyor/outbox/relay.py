"""The relay: publishes outbox rows in write order and marks them sent once the broker confirms.

Order per key holds because rows go out in id order through one idempotent producer that neither
times messages out (it retries until the broker is back) nor skips a failed one
(`enable.gapless.guarantee`); after any failure the relay closes that producer, lets what is in
flight settle, and starts again from the first unconfirmed row with a new one. A crash between
delivery and marking re-sends rows with the same `event_id` (duplicates, never gaps or
reordering); consumers drop them by id.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

import structlog

from conveyor import logs
from conveyor.outbox.dialect import SqlConnection
from conveyor.outbox.errors import RelayLockedError
from conveyor.outbox.table import Backlog, OutboxRow, OutboxTable
from conveyor.publish.config import PublisherConfig
from conveyor.publish.delivery import DeliveryHandle
from conveyor.publish.errors import PublishError
from conveyor.publish.publisher import Publisher
from conveyor.typing import Codec

log = structlog.get_logger("conveyor.outbox")

BacklogObserver = Callable[[Backlog], None]
_WAIT_STEP = 0.2


@dataclass(frozen=True)
class RelayConfig:
    batch_size: int = 500
    batches_in_flight: int = 4  # rows sent before a batch's confirmations are marked, in batches
    idle_interval: float = 0.2  # how often an idle relay looks for rows nobody woke it for
    backlog_interval: float = 1.0
    stalled_log_interval: float = 10.0  # how often a batch the broker does not take is logged
    retry_backoff: float = 0.5  # first pause after a failed batch, doubling up to the max
    retry_backoff_max: float = 10.0
    shutdown_timeout: float = 10.0  # how long `stop` waits for deliveries in flight
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
        write_lock: AbstractContextManager[object] | None = None,
    ) -> None:
        """`write_lock` is held around each of the relay's writes: pass the lock an in-process
        SQLite writer holds around its transactions, so the two take turns instead of meeting
        in SQLite's busy handler, which sleeps for milliseconds at a time."""
        self.table = table
        self.config = config
        self._connect = connect
        self._publisher_config = dataclasses.replace(
            publisher_config, gapless=True, delivery_timeout=math.inf
        )
        self._codec = codec
        self._on_backlog = on_backlog
        self._write_lock = write_lock or contextlib.nullcontext()
        self._wakeup = threading.Event()
        self._publisher: Publisher | None = None
        self._next_backlog = 0.0
        self._next_prune = 0.0
        self.backlog = Backlog(pending=0, oldest_age=0.0)

    def wake(self) -> None:
        """Tell the relay rows were committed, so it need not wait for its idle interval."""
        self._wakeup.set()

    def run(self, stop: threading.Event) -> None:
        """Relay until `stop` is set, then close the producer (bounded by `shutdown_timeout`).

        Broker trouble and database trouble (a dropped connection, a busy file) are logged and
        retried with backoff; only `RelayLockedError` (another relay owns the table) ends it.
        """
        conn: SqlConnection | None = self._open()
        backoff = self.config.retry_backoff
        log.info(logs.OUTBOX_RELAY_STARTED, table=self.table.name)
        try:
            while not stop.is_set():
                try:
                    conn = conn or self._open()
                    sent = self._step(conn, stop)
                except PublishError as exc:
                    log.warning(logs.OUTBOX_BATCH_FAILED, error=type(exc).__name__, reason=str(exc))
                    self._close_publisher()
                except RelayLockedError:
                    raise
                except Exception as exc:  # the database's own error types differ per driver
                    log.warning(
                        logs.OUTBOX_DATABASE_ERROR, error=type(exc).__name__, reason=str(exc)
                    )
                    self._close_publisher()
                    if conn is not None:
                        _close(conn)
                    conn = None
                else:
                    backoff = self.config.retry_backoff
                    if sent < self.config.batch_size:
                        self._wakeup.wait(self.config.idle_interval)
                        self._wakeup.clear()
                    continue
                stop.wait(backoff)
                backoff = min(backoff * 2, self.config.retry_backoff_max)
        finally:
            self._close_publisher()
            if conn is not None:
                _close(conn)
            log.info(logs.OUTBOX_RELAY_STOPPED, table=self.table.name)

    def _step(self, conn: SqlConnection, stop: threading.Event) -> int:
        self._maybe_report_backlog(conn)
        if time.monotonic() >= self._next_prune:
            self._prune(conn)
            self._next_prune = time.monotonic() + self.config.prune_interval
        return self.relay_batch(conn, stop)

    def relay_batch(self, conn: SqlConnection, stop: threading.Event) -> int:
        """Publish the oldest pending rows and mark the confirmed prefix sent; returns how many
        were marked. Raises the first delivery error, after marking what came before it.

        Rows committed while the batch is in flight (the relay was woken) are read and sent
        behind it as each delivery is confirmed, up to `batch_size * batches_in_flight` rows, so
        they wait for one broker acknowledgement, not for the whole batch and its marking."""
        rows = self.table.pending(conn, self.config.batch_size)
        conn.commit()
        if not rows:
            return 0
        publisher = self._ensure_publisher()
        handles: list[DeliveryHandle] = []
        read = len(rows)
        try:
            handles.extend(publisher.send(row.message) for row in rows)
            self._await_all(conn, rows, handles, stop)
        finally:
            if stop.is_set():
                self._close_publisher()  # settles every handle: delivered, or failed by purge
            self._mark_confirmed(conn, rows, handles)
        if len(rows) > read:
            # A row with a lower id than those read behind the batch, committed after them
            # (PostgreSQL hands out ids before commit), is still pending: look again at once.
            self._wakeup.set()
        return len(rows)

    def _send_more(
        self, conn: SqlConnection, rows: list[OutboxRow], handles: list[DeliveryHandle]
    ) -> None:
        """Send the rows committed since `rows` were read, behind them on the same producer
        (so in order); the caller marks them with the rest."""
        room = self.config.batch_size * self.config.batches_in_flight - len(rows)
        if room <= 0 or not self._wakeup.is_set() or self._publisher is None:
            return
        self._wakeup.clear()
        more = self.table.pending_after(conn, rows[-1].id, min(room, self.config.batch_size))
        conn.commit()
        rows.extend(more)
        handles.extend(self._publisher.send(row.message) for row in more)

    def _await_all(
        self,
        conn: SqlConnection,
        rows: list[OutboxRow],
        handles: list[DeliveryHandle],
        stop: threading.Event,
    ) -> None:
        """Wait for every handle (raising the first failure), sending the rows committed
        meanwhile behind them, while reporting the backlog; a broker that takes nothing keeps
        the relay here, logging, until it returns or `stop`."""
        started = next_stall_log = time.monotonic()
        done = 0
        while done < len(handles):
            handle = handles[done]
            done += 1
            while not handle.done():
                if stop.is_set():
                    return
                handle.wait_done(_WAIT_STEP)
                self._maybe_report_backlog(conn)
                if time.monotonic() >= next_stall_log + self.config.stalled_log_interval:
                    next_stall_log = time.monotonic()
                    log.warning(
                        logs.OUTBOX_DELIVERY_STALLED,
                        waiting_for=round(next_stall_log - started, 1),
                        pending=self.backlog.pending,
                    )
            handle.wait(0)
            self._send_more(conn, rows, handles)

    def _mark_confirmed(
        self, conn: SqlConnection, rows: list[OutboxRow], handles: list[DeliveryHandle]
    ) -> None:
        """Mark sent the rows up to the first one not (yet) confirmed."""
        confirmed: list[int] = []
        for row, handle in zip(rows, handles, strict=False):
            if not handle.succeeded():
                break
            confirmed.append(row.id)
        if not confirmed:
            return
        with self._write_lock:
            self.table.mark_sent(conn, confirmed)
            conn.commit()
        log.debug(
            logs.OUTBOX_RELAYED,
            count=len(confirmed),
            lag=round(time.time() - rows[0].created_at, 3),
        )

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

    def _close_publisher(self) -> None:
        """Close the producer, waiting up to `shutdown_timeout` for what is in flight; what is
        left is purged, so nothing of a failed batch lands after the rows sent again."""
        publisher, self._publisher = self._publisher, None
        if publisher is not None:
            publisher.close(self.config.shutdown_timeout)

    def _maybe_report_backlog(self, conn: SqlConnection) -> None:
        if time.monotonic() < self._next_backlog:
            return
        self._next_backlog = time.monotonic() + self.config.backlog_interval
        self.backlog = self.table.backlog(conn)
        conn.commit()
        if self._on_backlog is not None:
            self._on_backlog(self.backlog)

    def _prune(self, conn: SqlConnection) -> None:
        with self._write_lock:
            removed = self.table.prune(conn, time.time() - self.config.keep_sent)
            conn.commit()
        if removed:
            log.info(logs.OUTBOX_PRUNED, count=removed)


def _close(conn: SqlConnection) -> None:
    close = getattr(conn, "close", None)
    if callable(close):
        close()
