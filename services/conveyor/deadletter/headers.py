"""The headers a failed event carries into a retry tier or the dead letters (DESIGN.md's list).

The original key, value and headers are kept. The `x-original-*` headers and `x-first-failed-at`
describe the event's first failure on its own topic, so they are kept as they are when an event
moves on from a retry tier; the attempt count, error and last failure are replaced each time.
"""

from __future__ import annotations

from conveyor import naming
from conveyor.deadletter.record import FailureDetails, Headers, SourceRecord

# Error messages can be long (tracebacks in messages); headers should stay small.
MAX_ERROR_MESSAGE_BYTES = 2048

_KEPT_FROM_FIRST_FAILURE = (
    naming.ORIGINAL_TOPIC,
    naming.ORIGINAL_PARTITION,
    naming.ORIGINAL_OFFSET,
    naming.ORIGINAL_TIMESTAMP,
    naming.FIRST_FAILED_AT,
)
_REPLACED = (
    *naming.DEAD_LETTER_HEADERS,
    naming.RETRY_DUE_AT,
    naming.PARKED_BEHIND,
)


def _text(value: object) -> bytes:
    return str(value).encode()


def error_message_bytes(message: str) -> bytes:
    """The message as UTF-8, cut to `MAX_ERROR_MESSAGE_BYTES` on a character boundary."""
    raw = message.encode()
    if len(raw) <= MAX_ERROR_MESSAGE_BYTES:
        return raw
    return raw[:MAX_ERROR_MESSAGE_BYTES].decode(errors="ignore").encode()


def failure_headers(
    record: SourceRecord,
    failure: FailureDetails,
    group: str,
    *,
    retry_due_at_ms: int | None = None,
    parked_behind: str | None = None,
) -> Headers:
    """The original headers plus the failure headers, for the record's next topic."""
    first: dict[str, bytes] = {}
    if record.header(naming.ORIGINAL_TOPIC) is not None:
        first = {
            name: value
            for name in _KEPT_FROM_FIRST_FAILURE
            if (value := record.header(name)) is not None
        }
    first.setdefault(naming.ORIGINAL_TOPIC, record.topic.encode())
    first.setdefault(naming.ORIGINAL_PARTITION, _text(record.partition))
    first.setdefault(naming.ORIGINAL_OFFSET, _text(record.offset))
    first.setdefault(naming.ORIGINAL_TIMESTAMP, _text(record.timestamp_ms))
    first.setdefault(naming.FIRST_FAILED_AT, _text(failure.failed_at_ms))

    headers: Headers = [(name, value) for name, value in record.headers if name not in _REPLACED]
    headers += [
        (naming.ORIGINAL_TOPIC, first[naming.ORIGINAL_TOPIC]),
        (naming.ORIGINAL_PARTITION, first[naming.ORIGINAL_PARTITION]),
        (naming.ORIGINAL_OFFSET, first[naming.ORIGINAL_OFFSET]),
        (naming.ORIGINAL_TIMESTAMP, first[naming.ORIGINAL_TIMESTAMP]),
        (naming.CONSUMER_GROUP, group.encode()),
        (naming.ATTEMPTS, _text(failure.attempts)),
        (naming.ERROR_TYPE, failure.error_type.encode()),
        (naming.ERROR_MESSAGE, error_message_bytes(failure.error_message)),
        (naming.FIRST_FAILED_AT, first[naming.FIRST_FAILED_AT]),
        (naming.LAST_FAILED_AT, _text(failure.failed_at_ms)),
    ]
    if retry_due_at_ms is not None:
        headers.append((naming.RETRY_DUE_AT, _text(retry_due_at_ms)))
    if parked_behind is not None:
        headers.append((naming.PARKED_BEHIND, parked_behind.encode()))
    return headers


def attempts_so_far(record: SourceRecord) -> int:
    """Attempts an event had before this delivery: 0 on its own topic, `x-attempts` on a tier."""
    raw = record.header(naming.ATTEMPTS)
    try:
        return int(raw) if raw is not None else 0
    except ValueError:
        return 0


def retry_due_at(record: SourceRecord) -> int | None:
    """`x-retry-due-at` of a retry-tier record, in epoch millis."""
    raw = record.header(naming.RETRY_DUE_AT)
    return int(raw) if raw is not None and raw.isdigit() else None
