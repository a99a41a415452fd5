"""Named protocols and type aliases shared across conveyor's modules."""

from __future__ import annotations

from typing import Protocol

from conveyor.events.base import Event


class Codec(Protocol):
    """Turns events into message values and back. Implementations are thread-safe.

    Optional, looked up with `getattr`: `encoder_for(event_type)` (the publisher keeps one
    encoder per type) and `event_type_of(data) -> type[Event] | None` (the event type a value
    holds, told without decoding it; the consumer then reads no headers to route it).
    """

    content_type: str

    def encode(self, event: Event) -> bytes:
        """Validated event to bytes; raises before anything is produced when it cannot."""
        ...

    def decode(self, data: bytes, reader: type[Event] | None = None) -> Event:
        """Bytes to the event they hold, resolved to `reader`'s schema when given (else to
        the newest schema version this process knows for the writer's record name).
        Raises `conveyor.codec.DecodeError` (keeps the raw bytes) on anything undecodable."""
        ...
