"""An event turned into what Kafka carries: topic, key, value bytes and headers."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from conveyor import naming
from conveyor.events.base import Event
from conveyor.typing import Codec

Headers = list[tuple[str, str | bytes | None]]


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


def build_message(
    event: Event,
    codec: Codec,
    topic_for: Callable[[str], str],
    correlation_id: str | None = None,
    traceparent: str | None = None,
) -> OutgoingMessage:
    """Validate and encode `event` (the codec raises before anything leaves the process)."""
    value = codec.encode(event)
    event_id = str(event.event_id)
    event_type = event.AVRO_NAME
    headers = event_headers(event_type, event_id, codec.content_type, correlation_id, traceparent)
    return OutgoingMessage(
        topic_for(event.TOPIC), event.key.encode(), value, headers, event_id, event_type
    )


def event_headers(
    event_type: str,
    event_id: str,
    content_type: str,
    correlation_id: str | None,
    traceparent: str | None,
) -> Headers:
    """The contract headers of one event, plus the tracing ids that are given."""
    # str header values: the client encodes them as UTF-8 in C, cheaper than .encode() here.
    headers: Headers = [
        (naming.EVENT_TYPE, event_type),
        (naming.EVENT_ID, event_id),
        (naming.CONTENT_TYPE, content_type),
    ]
    if correlation_id is not None:
        headers.append((naming.CORRELATION_ID, correlation_id))
    if traceparent is not None:
        headers.append((naming.TRACEPARENT, traceparent))
    return headers
