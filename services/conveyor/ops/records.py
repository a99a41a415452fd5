"""A consumed Kafka record as a plain value, and the header helpers the commands share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conveyor.ops.broker import TP
from conveyor.records import Consumed, last_header, message_fields, message_headers


@dataclass(frozen=True)
class Record(Consumed):
    """One record read from a topic; headers in their original order (names may repeat)."""

    headers: tuple[tuple[str, bytes], ...] = ()

    @classmethod
    def of(cls, message: Any) -> Record:
        """From a confluent-kafka `Message`."""
        return cls(**message_fields(message), headers=tuple(message_headers(message)))

    @property
    def tp(self) -> TP:
        return (self.topic, self.partition)

    @property
    def key_text(self) -> str | None:
        return None if self.key is None else self.key.decode("utf-8", errors="replace")

    def header(self, name: str) -> str | None:
        """The last value of header `name`, as text (the last one wins, as in most clients)."""
        found = last_header(self.headers, name)
        return None if found is None else found.decode("utf-8", errors="replace")

    def int_header(self, name: str, default: int | None = None) -> int | None:
        text = self.header(name)
        try:
            return int(text) if text is not None else default
        except ValueError:
            return default

    def headers_text(self) -> dict[str, str]:
        return {name: value.decode("utf-8", errors="replace") for name, value in self.headers}
