"""The gateway's moving parts in one place: database, outbox relay thread, Kafka probe, metrics."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import structlog
from confluent_kafka import KafkaException
from fastapi.concurrency import run_in_threadpool

from conveyor.clients import admin_client
from conveyor.clients.connection import connection_settings
from conveyor.events import Event
from conveyor.outbox import SQLITE, Backlog, Outbox, OutboxRelay, RelayConfig, SqlConnection
from conveyor.publish import PublisherConfig
from conveyor.tracing import Tracing, installed
from conveyor.typing import Codec
from gateway.database import Database
from gateway.metrics import GatewayMetrics
from gateway.store import Store

log = structlog.get_logger("gateway")
E = TypeVar("E", bound=Event)


@dataclass(frozen=True)
class GatewayConfig:
    database_url: str
    publisher: PublisherConfig
    relay: RelayConfig = field(default_factory=RelayConfig)
    readiness_timeout: float = 1.0


class Gateway:
    """Owns the database pool and the relay thread that publishes what requests committed."""

    def __init__(self, config: GatewayConfig, codec: Codec, tracing: Tracing | None = None) -> None:
        """`tracing`: the process's unless given; requests are server spans and the events
        they write carry their trace."""
        self.config = config
        self.tracing = tracing if tracing is not None else installed()
        self.metrics = GatewayMetrics()
        self.db = Database(config.database_url)
        self.db.create_schema()
        outbox = Outbox(self.db.outbox, codec, config.publisher.topics, self.tracing)
        self.store = Store(outbox, self.db.placeholder)
        self.relay = OutboxRelay(
            self.db.outbox,
            self.db.connect,
            config.publisher,
            codec,
            config=config.relay,
            on_backlog=self._observe_backlog,
            write_lock=self.db.write_lock,
        )
        self._admin = admin_client(
            connection_settings(config.publisher.bootstrap_servers, config.publisher.client)
        )
        self._stop = threading.Event()
        self._relay_thread = threading.Thread(target=self._run_relay, name="outbox-relay")

    def start(self) -> None:
        self._relay_thread.start()

    def stop(self) -> None:
        """Stop the relay (it flushes what is in flight, bounded) and close the database."""
        self._stop.set()
        self.relay.wake()
        if self._relay_thread.is_alive():
            self._relay_thread.join()
        self.db.close()

    async def commit(self, write: Callable[[SqlConnection, E], None], event: E) -> None:
        """Run `write` (domain rows + outbox row) in one transaction, then wake the relay.

        SQLite writes run on the event loop: a local file, under a millisecond, and serialised
        anyway, so a worker thread would add a hop and no concurrency. PostgreSQL's round trips
        go to a worker thread.
        """
        if self.db.dialect is SQLITE:
            self._commit(write, event)
        else:
            await run_in_threadpool(self._commit, write, event)

    def _commit(self, write: Callable[[SqlConnection, E], None], event: E) -> None:
        with self.db.transaction() as conn:
            write(conn, event)
        self.metrics.events_written.labels(event.AVRO_NAME).inc()
        self.relay.wake()

    def relay_alive(self) -> bool:
        return self._relay_thread.is_alive()

    def kafka_answers(self) -> bool:
        try:
            self._admin.list_topics(timeout=self.config.readiness_timeout)
        except KafkaException:
            return False
        return True

    def _run_relay(self) -> None:
        try:
            self.relay.run(self._stop)
        except Exception:
            log.exception("outbox.relay_crashed")
            raise

    def _observe_backlog(self, backlog: Backlog) -> None:
        self.metrics.outbox_pending.set(backlog.pending)
        self.metrics.outbox_oldest_age.set(backlog.oldest_age)
