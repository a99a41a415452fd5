"""An event turned into what Kafka carries: topic, key, value bytes and headers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from conveyor import naming
from conveyor.events.base import Event
from conveyor.typing import Codec

Headers = list[tuple[str, str | bytes | None]]


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One encoded event, ready for `Producer.produce`; the outbox stores exactly this."""

    topic: str
    key: bytes
    value: bytes
    headers: Headers
    event_id: str
    event_type: str


@dataclass(frozen=True, slots=True)
class Trace:
    """Ids that follow a request through the pipeline; either may be absent."""

    correlation_id: str | None = None
    traceparent: str | None = None


NO_TRACE = Trace()


def build_message(
    event: Event, codec: Codec, topic_for: Callable[[str], str], trace: Trace = NO_TRACE
) -> OutgoingMessage:
    """Validate and encode `event` (the codec raises before anything leaves the process)."""
    value = codec.encode(event)
    event_id = str(event.event_id)
    event_type = event.AVRO_NAME
    headers: Headers = [
        (naming.EVENT_TYPE, event_type.encode()),
        (naming.EVENT_ID, event_id.encode()),
        (naming.CONTENT_TYPE, codec.content_type.encode()),
    ]
    if trace.correlation_id is not None:
        headers.append((naming.CORRELATION_ID, trace.correlation_id.encode()))
    if trace.traceparent is not None:
        headers.append((naming.TRACEPARENT, trace.traceparent.encode()))
    return OutgoingMessage(
        topic=topic_for(event.TOPIC),
        key=event.key.encode(),
        value=value,
        headers=headers,
        event_id=event_id,
        event_type=event_type,
    )
