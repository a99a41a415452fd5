"""The gateway's moving parts in one place: database writers, outbox relay thread, SQLite
checkpoints, Kafka probe, metrics."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import structlog
from confluent_kafka import KafkaException

from conveyor.clients import admin_client
from conveyor.clients.connection import connection_settings
from conveyor.events import Event
from conveyor.outbox import SQLITE, Backlog, Outbox, RelayConfig, SqlConnection
from conveyor.publish import PublisherConfig
from conveyor.tracing import Tracing, installed
from conveyor.typing import Codec
from gateway import logs
from gateway.committer import Committer
from gateway.database import DATABASE_ERRORS, Database, close_connection
from gateway.ids import IdSource
from gateway.metrics import GatewayMetrics
from gateway.relay_process import RelayProcess
from gateway.relays import RelayThread
from gateway.store import Store
from shop_events.orders import ORDER_TOPIC

log = structlog.get_logger("gateway")
E = TypeVar("E", bound=Event)


@dataclass(frozen=True)
class GatewayConfig:
    database_url: str
    publisher: PublisherConfig
    relay: RelayConfig = field(default_factory=RelayConfig)
    readiness_timeout: float = 1.0
    checkpoint_interval: float = 1.0  # SQLite: how often WAL pages are copied into the file
    relay_standby_retry: float = 5.0  # how often a standby relay tries to take over
    writers: int = 1  # writer threads on PostgreSQL (`Database`)


class Gateway:
    """Owns the writer threads, the outbox relay that publishes what they committed (a thread,
    or on PostgreSQL a child process: `gateway.relay_process`) and, for SQLite, the thread that
    checkpoints its write-ahead log."""

    def __init__(
        self,
        config: GatewayConfig,
        codec: Codec,
        tracing: Tracing | None = None,
        relay_argv: list[str] | None = None,
    ) -> None:
        """`tracing`: the process's unless given; requests are server spans and the events
        they write carry their trace. `relay_argv`: the gateway's arguments; given, on
        PostgreSQL the relay runs in a child process started with them."""
        self.config = config
        self.tracing = tracing if tracing is not None else installed()
        self.metrics = GatewayMetrics()
        self.new_id = IdSource()  # the ids of the entities and events requests create
        self.db = Database(config.database_url, config.writers)
        self.db.create_schema()
        # Set while this process's relay publishes: then its commits wake it directly, and
        # only the other processes' commits need to NOTIFY it.
        self._relaying = threading.Event()
        self.committer = Committer(self.db, self._committed, self._others_relay)
        lanes = config.publisher.lanes
        outbox = Outbox(self.db.outbox, codec, config.publisher.topics, self.tracing, lanes=lanes)
        self.store = Store(outbox, self.db.placeholder, lanes.get(ORDER_TOPIC))
        self._admin = admin_client(
            connection_settings(config.publisher.bootstrap_servers, config.publisher.client)
        )
        self._stop = threading.Event()
        self._relay = self._relay_runner(codec, relay_argv)
        self._checkpoint_thread = threading.Thread(
            target=self._run_checkpoints, name="sqlite-checkpoint", daemon=True
        )

    def _relay_runner(self, codec: Codec, argv: list[str] | None) -> RelayThread | RelayProcess:
        if argv is not None and self.db.dialect is not SQLITE:
            stop_timeout = self.config.relay.shutdown_timeout + 5.0
            return RelayProcess(argv, self._observe_backlog, stop_timeout)
        return RelayThread.for_gateway(
            self.db, self.config, codec, self._stop, self._observe_backlog
        )

    def start(self) -> None:
        self.committer.start()
        self._relay.start()
        if self.db.dialect is SQLITE:
            self._checkpoint_thread.start()

    def stop(self) -> None:
        """Commit what is queued, then stop the relay (it flushes what is in flight, bounded)."""
        self.committer.stop()
        self._stop.set()
        self._relay.stop()
        if self._checkpoint_thread.is_alive():
            self._checkpoint_thread.join()

    async def commit(self, write: Callable[[SqlConnection, E], None], event: E) -> None:
        """Run `write` (domain rows + outbox row) in a transaction on a writer thread; the
        relay is woken once it committed. Raises what `write` raised."""
        await self.committer.commit(write, event)

    def _committed(self, events: list[Event]) -> None:
        self._relay.wake()
        counts = Counter(event.AVRO_NAME for event in events)
        for event_type, count in counts.items():
            self.metrics.events_written.labels(event_type).inc(count)

    def relay_alive(self) -> bool:
        return self._relay.alive()

    def kafka_answers(self) -> bool:
        try:
            self._admin.list_topics(timeout=self.config.readiness_timeout)
        except KafkaException:
            return False
        return True

    def _others_relay(self) -> bool:
        """Whether the relay publishing this outbox may be another process's."""
        return not self._relaying.is_set()

    def _run_checkpoints(self) -> None:
        conn: SqlConnection | None = None
        while not self._stop.wait(self.config.checkpoint_interval):
            try:
                conn = conn or self.db.connect()
                self.db.checkpoint(conn)
            except DATABASE_ERRORS as exc:
                log.warning(logs.CHECKPOINT_FAILED, error=type(exc).__name__)
                conn = None
        if conn is not None:
            close_connection(conn)

    def _observe_backlog(self, backlog: Backlog | None) -> None:
        """A report of this process's relay: its backlog while it holds the outbox's lock,
        `None` while it stands by (or has ended)."""
        if backlog is None:
            self._relaying.clear()
            return
        self._relaying.set()
        self.metrics.outbox_pending.set(backlog.pending)
        self.metrics.outbox_oldest_age.set(backlog.oldest_age)
