"""`Outbox.add`: record an event in the caller's database transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from types import MappingProxyType

from conveyor.delay.envelope import DEFAULT_MAX_DELAY
from conveyor.events.base import Event
from conveyor.lanes.model import Lanes
from conveyor.outbox.dialect import SqlConnection
from conveyor.outbox.table import OutboxTable
from conveyor.publish.routes import Routes
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
        max_delay: timedelta = DEFAULT_MAX_DELAY,
        *,
        lanes: Mapping[str, Lanes] = MappingProxyType({}),
    ) -> None:
        """`lanes`: the lanes of topics that have them, by declared topic (`Topology.lanes`)."""
        self.table = table
        self._tracing = tracing if tracing is not None else installed()
        self._traced = self._tracing.enabled
        self.codec = codec
        self.topics = topics  # renames, as in `PublisherConfig.topics`
        self._message = Routes(codec, topics, lanes, max_delay).message

    def add(
        self,
        conn: SqlConnection,
        event: Event,
        *,
        correlation_id: str | None = None,
        traceparent: str | None = None,
        delay: timedelta | None = None,
        deliver_at: datetime | None = None,
        lane: str | None = None,
    ) -> None:
        """Insert `event` using `conn`; the caller commits (or rolls back) as usual. With `delay`
        (counted from now, not from the relay) or `deliver_at` the relay sends it to the delay
        topic, and to `lane` (or its lane field's), as `Publisher.publish` does."""
        message = self._message(event, correlation_id, traceparent, lane, delay, deliver_at)
        if self._traced:
            message = self._tracing.sending(message, CREATE)
        self.table.insert(conn, message)
