"""Operators' pauses as records of the compacted control topic, and the set they amount to.

A record's key is `pause`, NUL, the service, NUL, then the declared topic (empty: every topic the
service reads); its value says who paused it and when (JSON); a tombstone resumes. Pure: the
watcher and the CLI read and write the records.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_KIND = b"pause"
ALL_TOPICS = ""


def pause_key(service: str, topic: str | None) -> bytes:
    return b"\x00".join((_KIND, service.encode(), (topic or ALL_TOPICS).encode()))


def parse_key(key: bytes) -> tuple[str, str] | None:
    """(service, topic or "") of a pause record key; None for any other record."""
    parts = key.split(b"\x00")
    if len(parts) != 3 or parts[0] != _KIND:
        return None
    return parts[1].decode(errors="replace"), parts[2].decode(errors="replace")


def pause_value(by: str, at_ms: int) -> bytes:
    return json.dumps({"paused_by": by, "paused_at_ms": at_ms}).encode()


@dataclass(frozen=True)
class Paused:
    """What one service must not fetch: everything, or some of its (actual) topics."""

    everything: bool = False
    topics: frozenset[str] = frozenset()

    def covers(self, topic: str) -> bool:
        return self.everything or topic in self.topics

    def __bool__(self) -> bool:
        return self.everything or bool(self.topics)

    @classmethod
    def of(
        cls, service: str, keys: Iterable[bytes], topic_map: Mapping[str, str] | None = None
    ) -> Paused:
        """The pauses of `service` among the live keys of the control topic; declared topic
        names are mapped to the topics the service actually reads."""
        everything = False
        topics: set[str] = set()
        for key in keys:
            parsed = parse_key(key)
            if parsed is None or parsed[0] != service:
                continue
            if parsed[1] == ALL_TOPICS:
                everything = True
            else:
                topics.add((topic_map or {}).get(parsed[1], parsed[1]))
        return cls(everything, frozenset(topics))
