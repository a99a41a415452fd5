"""The relay: publishes outbox rows in commit order and marks them sent once the broker confirms.

The relay streams: each commit wakes it, and it reads the rows committed since and sends them at
once behind those still in flight, without waiting for the broker's answers to them; confirmed
rows are marked sent a few times a second. A row's wait is one read, not a round trip to the
broker. A read takes every unsent row not in flight, whatever its id: PostgreSQL hands out ids
before commit, so a transaction may commit a row with a lower id after rows with higher ones,
and that row goes out as soon as it is committed, not when the rows in flight are done.

Order per key holds because rows go out in the order they were committed, through one
idempotent producer that neither times messages out (it retries until the broker is back) nor
skips a failed one (`enable.gapless.guarantee`). Two rows of one key that two transactions
commit concurrently have no order between them; a row that depends on another (a cancel reads
its order) is committed after it. After any failure the relay closes that producer, lets what
is in flight settle, and starts again from the rows not confirmed with a new one. A crash
between delivery and marking re-sends rows with the same `event_id` (duplicates, never gaps or
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
from conveyor.outbox.flight import Flight
from conveyor.outbox.table import Backlog, OutboxTable
from conveyor.publish.config import PublisherConfig
from conveyor.publish.delivery import DeliveryHandle
from conveyor.publish.errors import PublishError
from conveyor.publish.publisher import Publisher
from conveyor.typing import Codec

log = structlog.get_logger("conveyor.outbox")

BacklogObserver = Callable[[Backlog], None]


@dataclass(frozen=True)
class RelayConfig:
    batch_size: int = 500  # rows read at once, at most
    batches_in_flight: int = 4  # rows sent and not yet marked sent, at most, in batches
    mark_interval: float = 0.05  # how often confirmed rows are marked sent while more are sent
    idle_interval: float = 0.2  # how often an idle relay looks for rows nobody woke it for
    backlog_interval: float = 1.0
    stalled_log_interval: float = 10.0  # how often a row the broker does not take is logged
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
        self._flight = Flight()
        self._read_due = True  # the next turn reads, woken or not
        self._next_read = self._next_mark = self._next_backlog = self._next_prune = 0.0
        self._stalled_since: tuple[DeliveryHandle, float] | None = None  # the head, since when
        self._next_stall_log = 0.0
        self.backlog = Backlog(pending=0, oldest_age=0.0)

    def wake(self) -> None:
        """Tell the relay rows were committed, so it need not wait for its idle interval."""
        self._wakeup.set()

    @property
    def in_flight(self) -> int:
        """Rows sent on the current producer and not yet marked sent."""
        return len(self._flight)

    def run(self, stop: threading.Event) -> None:
        """Relay until `stop` is set, then close the producer (bounded by `shutdown_timeout`)
        and mark what it confirmed meanwhile.

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
                    self._turn(conn)
                except PublishError as exc:
                    log.warning(logs.OUTBOX_BATCH_FAILED, error=type(exc).__name__, reason=str(exc))
                    self._close_publisher(conn)
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
                    continue
                stop.wait(backoff)
                backoff = min(backoff * 2, self.config.retry_backoff_max)
        finally:
            self._close_publisher(conn)
            if conn is not None:
                _close(conn)
            log.info(logs.OUTBOX_RELAY_STOPPED, table=self.table.name)

    def _turn(self, conn: SqlConnection) -> None:
        """Take in the broker's answers, mark what it confirmed when due, send the rows
        committed since the last read, then wait for the next commit or the next mark."""
        self._maybe_report_backlog(conn)
        if time.monotonic() >= self._next_prune:
            self._prune(conn)
            self._next_prune = time.monotonic() + self.config.prune_interval
        failure = self._flight.settle()
        if failure is not None:
            self._mark(conn)  # what was confirmed before the failure
            raise failure
        if self._flight.confirmed and (
            not self._flight.waiting
            or len(self._flight.confirmed) >= self.config.batch_size
            or time.monotonic() >= self._next_mark
        ):
            self._mark(conn)
        self._log_if_stalled()
        room = self.config.batch_size * self.config.batches_in_flight - len(self._flight)
        if self._read_due and room > 0:
            if self._send_pending(conn, min(room, self.config.batch_size)):
                return  # a full read: more rows may wait, read again at once
            self._read_due = False
        if self._read_due:  # as many rows in flight as allowed: wait for the broker's answers
            time.sleep(self.config.mark_interval)
            return
        now = time.monotonic()
        timeout = self.config.mark_interval if self._flight else self.config.idle_interval
        woken = self._wakeup.wait(min(timeout, max(0.0, self._next_read - now)))
        self._read_due = woken or time.monotonic() >= self._next_read

    def _send_pending(self, conn: SqlConnection, limit: int) -> bool:
        """Read up to `limit` of the oldest unsent rows not in flight and send them; returns
        whether the read was full, so more may be waiting."""
        self._wakeup.clear()  # before reading: a commit after the read wakes the relay again
        self._next_read = time.monotonic() + self.config.idle_interval
        rows = self.table.pending(conn, limit, excluding=self._flight.ids())
        conn.commit()
        if rows:
            publisher = self._ensure_publisher()
            for row in rows:
                self._flight.add(row, publisher.send(row.message))
        return len(rows) == limit

    def _mark(self, conn: SqlConnection) -> None:
        """Mark the confirmed rows sent."""
        confirmed = self._flight.confirmed
        self._next_mark = time.monotonic() + self.config.mark_interval
        if not confirmed:
            return
        with self._write_lock:
            self.table.mark_sent(conn, [row.id for row in confirmed])
            conn.commit()
        self._flight.marked()
        log.debug(
            logs.OUTBOX_RELAYED,
            count=len(confirmed),
            lag=round(time.time() - confirmed[0].created_at, 3),
        )

    def _log_if_stalled(self) -> None:
        """Log, every `stalled_log_interval`, while the broker leaves the same row unanswered."""
        head = self._flight.head_waiting()
        now = time.monotonic()
        if head is None or self._stalled_since is None or self._stalled_since[0] is not head:
            self._stalled_since = (head, now) if head is not None else None
            self._next_stall_log = now + self.config.stalled_log_interval
            return
        if now >= self._next_stall_log:
            self._next_stall_log = now + self.config.stalled_log_interval
            log.warning(
                logs.OUTBOX_DELIVERY_STALLED,
                waiting_for=round(now - self._stalled_since[1], 1),
                pending=self.backlog.pending,
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

    def _close_publisher(self, conn: SqlConnection | None = None) -> None:
        """Close the producer, waiting up to `shutdown_timeout` for what is in flight (what is
        left is purged, so nothing of a failed batch lands after the rows sent again), mark on
        `conn` what it confirmed, and forget the rest: the next read sends it again."""
        publisher, self._publisher = self._publisher, None
        if publisher is not None:
            publisher.close(self.config.shutdown_timeout)
        if conn is not None:
            self._flight.settle()
            with contextlib.suppress(Exception):  # the database's own error types
                self._mark(conn)
        self._flight.clear()
        self._read_due = True

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
