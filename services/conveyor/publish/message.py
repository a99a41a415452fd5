"""An event turned into what Kafka carries: topic, key, value bytes and headers."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from operator import attrgetter
from typing import NamedTuple

from conveyor import naming
from conveyor.events.base import Event
from conveyor.typing import Codec, Encoder, EncoderSource

Header = tuple[str, str | bytes | None]
Headers = list[Header]


class OutgoingMessage(NamedTuple):
    """One encoded event, ready for `Producer.produce`; the outbox stores exactly this.

    A named tuple: cheap to build and to keep.
    """

    topic: str
    key: bytes
    value: bytes
    headers: Headers
    event_id: str
    event_type: str


# What the messages of one event type share: its encoder, topic, event type and its header, and
# how to get the key.
_TypeParts = tuple[Encoder, str, str, Header, Callable[[Event], object]]

# `OutgoingMessage(...)` runs the named tuple's `__new__`, a Python function; this is the tuple
# it makes, made in C (half the time, and `publish` makes one per event).
_new_message: Callable[[tuple[str, bytes, bytes, Headers, str, str]], OutgoingMessage] = partial(
    tuple.__new__, OutgoingMessage
)


class MessageBuilder:
    """Turns events into `OutgoingMessage`s with one codec and one topic mapping.

    What depends only on the event type (its topic, its `event-type` header, how to get its key,
    its encoder) is worked out on the type's first event, so `topic_for` must give the same
    topic for the same name every time. The event id is turned into a string once, for the
    value and the `event-id` header alike, when the codec can say how it wrote it
    (`AvroCodec.encoder_for`). Thread-safe: its only state is that per-type cache, filled with
    whole entries.
    """

    __slots__ = ("_codec", "_content_type", "_topic_for", "_types")

    def __init__(self, codec: Codec, topic_for: Callable[[str], str]) -> None:
        self._codec = codec
        self._topic_for = topic_for
        # str header values: the client encodes them as UTF-8 in C, cheaper than .encode() here.
        self._content_type = (naming.CONTENT_TYPE, codec.content_type)
        self._types: dict[type[Event], _TypeParts] = {}

    def build(
        self, event: Event, correlation_id: str | None = None, traceparent: str | None = None
    ) -> OutgoingMessage:
        """Validate and encode `event` (the codec raises before anything leaves the process)."""
        kind = type(event)
        encode, topic, event_type, type_header, key_of = self._types.get(kind) or self._learn(kind)
        value, event_id = encode(event)
        headers: Headers = [type_header, (naming.EVENT_ID, event_id), self._content_type]
        if correlation_id is not None:
            headers.append((naming.CORRELATION_ID, correlation_id))
        if traceparent is not None:
            headers.append((naming.TRACEPARENT, traceparent))
        key = str(key_of(event)).encode()
        return _new_message((topic, key, value, headers, event_id, event_type))

    def _learn(self, kind: type[Event]) -> _TypeParts:
        codec = self._codec
        encode = codec.encoder_for(kind) if isinstance(codec, EncoderSource) else _encoder_of(codec)
        event_type = kind.AVRO_NAME
        # `Event.key` is `str(<KEY_FIELD>)`: read the field itself, unless the model says
        # otherwise.
        key_of = attrgetter(kind.KEY_FIELD if kind.key is Event.key else "key")
        topic = self._topic_for(kind.TOPIC)
        parts = (encode, topic, event_type, (naming.EVENT_TYPE, event_type), key_of)
        self._types[kind] = parts
        return parts


def _encoder_of(codec: Codec) -> Encoder:
    """For codecs that only `encode`: the id is made again for the header."""
    return lambda event: (codec.encode(event), str(event.event_id))


def build_message(
    event: Event,
    codec: Codec,
    topic_for: Callable[[str], str],
    correlation_id: str | None = None,
    traceparent: str | None = None,
) -> OutgoingMessage:
    """Validate and encode one `event` (the codec raises before anything leaves the process);
    a `MessageBuilder` kept for many events does less work per event."""
    return MessageBuilder(codec, topic_for).build(event, correlation_id, traceparent)
