"""A consumed Kafka message's position and bytes as a plain value, and the header lookup its
readers share (the dead-letter sink's `SourceRecord`, the operations commands' `Record`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Consumed:
    """Where a message was read and its bytes; subclasses add its headers in their own form."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None


def message_fields(message: Any) -> dict[str, Any]:
    """`Consumed`'s fields of a confluent_kafka `Message` (typed loosely: it ships no stubs)."""
    _kind, timestamp = message.timestamp()
    return {
        "topic": message.topic(),
        "partition": message.partition(),
        "offset": message.offset(),
        "timestamp_ms": timestamp,
        "key": message.key(),
        "value": message.value(),
    }


def message_headers(message: Any) -> list[tuple[str, bytes]]:
    """A confluent_kafka `Message`'s headers in order; one without a value reads as b""."""
    return [(name, value or b"") for name, value in (message.headers() or [])]


def last_header(headers: Iterable[tuple[str, bytes]], name: str) -> bytes | None:
    """The last value of header `name`, as Kafka clients read repeated headers."""
    found = None
    for key, value in headers:
        if key == name:
            found = value
    return found
