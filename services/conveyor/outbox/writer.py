"""`Outbox.add`: record an event in the caller's database transaction."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from conveyor.events.base import Event
from conveyor.outbox.dialect import SqlConnection
from conveyor.outbox.table import OutboxTable
from conveyor.publish.message import MessageBuilder
from conveyor.tracing.seam import CREATE, Tracing, installed
from conveyor.typing import Codec


class Outbox:
    """Writes events into the outbox table of the caller's open transaction.

    The event is validated and encoded here, so an invalid event raises before the transaction
    commits; it leaves the database only through the relay, after the transaction committed.
    With tracing on, each row's headers carry the context of a `create` span, child of the span
    current when it is added (the HTTP request's, in the gateway).
    """

    def __init__(
        self,
        table: OutboxTable,
        codec: Codec,
        topics: Mapping[str, str] = MappingProxyType({}),
        tracing: Tracing | None = None,
    ) -> None:
        self.table = table
        self._tracing = tracing if tracing is not None else installed()
        self._traced = self._tracing.enabled
        self.codec = codec
        self.topics = topics  # renames, as in `PublisherConfig.topics`
        self._build = MessageBuilder(codec, self._topic_for).build

    def _topic_for(self, declared: str) -> str:
        return self.topics.get(declared, declared)

    def add(
        self,
        conn: SqlConnection,
        event: Event,
        *,
        correlation_id: str | None = None,
        traceparent: str | None = None,
    ) -> None:
        """Insert `event` using `conn`; the caller commits (or rolls back) as usual."""
        message = self._build(event, correlation_id, traceparent)
        if self._traced:
            message = self._tracing.sending(message, CREATE)
        self.table.insert(conn, message)
