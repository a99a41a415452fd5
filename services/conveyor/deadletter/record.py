"""A consumed record as plain data, and the failure that sends it to a retry tier or DLQ."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conveyor.records import Consumed, last_header, message_fields, message_headers

Headers = list[tuple[str, bytes]]


@dataclass(frozen=True)
class SourceRecord(Consumed):
    """What conveyor keeps of a consumed message: enough to rebuild it byte for byte elsewhere."""

    headers: Headers

    @classmethod
    def from_message(cls, message: Any) -> SourceRecord:
        """From a confluent_kafka `Message`."""
        return cls(**message_fields(message), headers=message_headers(message))

    def header(self, name: str) -> bytes | None:
        """The last value of header `name`, as Kafka clients read repeated headers."""
        return last_header(self.headers, name)


@dataclass(frozen=True)
class FailureDetails:
    """Why and when an event failed, and how many attempts it has had in all."""

    error_type: str
    error_message: str
    attempts: int
    failed_at_ms: int

    @classmethod
    def from_exception(
        cls, error: BaseException, attempts: int, failed_at_ms: int
    ) -> FailureDetails:
        kind = type(error)
        return cls(
            error_type=f"{kind.__module__}.{kind.__qualname__}",
            error_message=str(error),
            attempts=attempts,
            failed_at_ms=failed_at_ms,
        )
