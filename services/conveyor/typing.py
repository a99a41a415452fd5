"""Named protocols and type aliases shared across conveyor's modules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from conveyor.events.base import Event

# Encodes an event and says its id as the `event-id` header carries it.
Encoder = Callable[[Event], tuple[bytes, str]]


class Codec(Protocol):
    """Turns events into message values and back. Implementations are thread-safe.

    A codec may also be an `EncoderSource` (the publisher then keeps one encoder per event type)
    and an `EventTypeReader` (the consumer then routes a value without reading its headers).
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


@runtime_checkable
class EncoderSource(Protocol):
    """A codec's optional fast path for publishers: one encoder per event type."""

    def encoder_for(self, event_type: type[Event]) -> Encoder:
        """Encodes events of `event_type` and returns their id as written."""
        ...


@runtime_checkable
class EventTypeReader(Protocol):
    """A codec's optional fast path for consumers: the event type a value holds, told without
    decoding it."""

    def event_type_of(self, data: bytes) -> type[Event] | None:
        """The event type `data` decodes into; None when the codec cannot tell."""
        ...
