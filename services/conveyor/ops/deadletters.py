"""Dead letters of a service: what each one says (from its headers), filters, list and show."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from conveyor import naming
from conveyor.ops.broker import Broker
from conveyor.ops.decoding import describe_value
from conveyor.ops.errors import DeadLetterNotFoundError, OpsError
from conveyor.ops.reader import scan
from conveyor.ops.records import Record
from conveyor.ops.timeparse import header_ms, iso, to_epoch_ms
from conveyor.ops.topology import ServiceTopology
from conveyor.typing import Codec

Position = tuple[int, int]
"""(partition, offset) in the dead-letter topic: `2:17` on the command line."""


@dataclass(frozen=True)
class DeadLetter:
    """One record of `<service>.dlq` and the failure its headers describe."""

    record: Record

    @property
    def position(self) -> Position:
        return (self.record.partition, self.record.offset)

    @property
    def id(self) -> str:
        return f"{self.record.partition}:{self.record.offset}"

    @property
    def key(self) -> str | None:
        return self.record.key_text

    @property
    def error_type(self) -> str | None:
        return self.record.header(naming.ERROR_TYPE)

    @property
    def original_topic(self) -> str | None:
        return self.record.header(naming.ORIGINAL_TOPIC)

    @property
    def lane(self) -> str | None:
        """The lane the event was in (`x-lane`), on a topic with lanes."""
        return self.record.header(naming.LANE)

    @property
    def redrive_count(self) -> int:
        return self.record.int_header(naming.REDRIVE_COUNT, 0) or 0

    @property
    def dead_lettered_at_ms(self) -> int:
        return header_ms(self.record.header(naming.LAST_FAILED_AT)) or self.record.timestamp_ms

    def origin_order(self) -> tuple[str, int, int]:
        """Where the event first stood, so one key's dead letters sort back to its order."""
        record = self.record
        return (
            self.original_topic or "",
            record.int_header(naming.ORIGINAL_PARTITION, -1) or 0,
            record.int_header(naming.ORIGINAL_OFFSET, record.offset) or 0,
        )

    def summary(self) -> dict[str, Any]:
        r = self.record
        return {
            "id": self.id,
            "key": self.key,
            "event_type": r.header(naming.EVENT_TYPE),
            "error_type": self.error_type,
            "error_message": r.header(naming.ERROR_MESSAGE),
            "original_topic": self.original_topic,
            "lane": self.lane,
            "original_partition": r.int_header(naming.ORIGINAL_PARTITION),
            "original_offset": r.int_header(naming.ORIGINAL_OFFSET),
            "attempts": r.int_header(naming.ATTEMPTS),
            "redrive_count": self.redrive_count,
            "dead_lettered_at": iso(self.dead_lettered_at_ms),
        }


@dataclass(frozen=True)
class DeadLetterFilter:
    """Which dead letters a command applies to; every given criterion must hold."""

    error_type: str | None = None  # the full name, or its last dotted part (`TimeoutError`)
    key: str | None = None
    original_topic: str | None = None
    since_ms: int | None = None  # dead-lettered at or after
    until_ms: int | None = None  # dead-lettered before
    lane: str | None = None  # from this lane of a topic with lanes

    @classmethod
    def parse(
        cls,
        error_type: str | None = None,
        key: str | None = None,
        since: str | None = None,
        until: str | None = None,
        topic: str | None = None,
        *,
        lane: str | None = None,
    ) -> DeadLetterFilter:
        """From the texts an operator types (times as ISO-8601 or epoch millis); empty texts
        leave a criterion out."""
        return cls(
            error_type=error_type or None,
            key=key or None,
            original_topic=topic or None,
            since_ms=to_epoch_ms(since) if since else None,
            until_ms=to_epoch_ms(until) if until else None,
            lane=lane or None,
        )

    def matches(self, letter: DeadLetter) -> bool:
        when = letter.dead_lettered_at_ms
        return (
            (self.error_type is None or _same_type(self.error_type, letter.error_type))
            and (self.key is None or letter.key == self.key)
            and (self.original_topic is None or letter.original_topic == self.original_topic)
            and (self.since_ms is None or when >= self.since_ms)
            and (self.until_ms is None or when < self.until_ms)
            and (self.lane is None or letter.lane == self.lane)
        )


def detail(letter: DeadLetter, codec: Codec) -> dict[str, Any]:
    """One letter in full: its summary, every header, and the event decoded."""
    return {
        **letter.summary(),
        "timestamp": iso(letter.record.timestamp_ms),
        "headers": letter.record.headers_text(),
        **describe_value(codec, letter.record.value),
    }


def dead_letter_topic(topology: ServiceTopology) -> str:
    if topology.dead_letter_topic is None:
        raise OpsError(
            f"service {topology.service!r} has no dead-letter topic "
            f"({naming.dead_letter_topic(topology.service)} does not exist): nothing to inspect"
        )
    return topology.dead_letter_topic


def read_all(
    broker: Broker,
    topology: ServiceTopology,
    on_total: Callable[[int], None] | None = None,
    on_read: Callable[[], None] | None = None,
) -> Iterator[DeadLetter]:
    """Every dead letter present now, in dead-letter order (partition by partition)."""
    topic = dead_letter_topic(topology)
    ranges = broker.watermarks(broker.partitions(topic))
    if on_total is not None:
        on_total(sum(end - low for low, end in ranges.values()))
    for record in scan(broker, ranges):
        if on_read is not None:
            on_read()
        yield DeadLetter(record)


def find(broker: Broker, topology: ServiceTopology, position: Position) -> DeadLetter:
    topic = dead_letter_topic(topology)
    partition, offset = position
    marks = broker.watermarks(broker.partitions(topic))
    low, end = marks.get((topic, partition), (0, 0))
    if not low <= offset < end:
        raise DeadLetterNotFoundError(
            f"no dead letter {partition}:{offset} in {topic} "
            f"(partition {partition} holds offsets {low}..{end - 1}); see `conveyor dlq list`"
        )
    for record in scan(broker, {(topic, partition): (offset, offset + 1)}):
        return DeadLetter(record)
    raise DeadLetterNotFoundError(f"dead letter {partition}:{offset} of {topic} was compacted")


def parse_position(text: str) -> Position:
    partition, sep, offset = text.partition(":")
    if not sep or not partition.isdigit() or not offset.isdigit():
        raise OpsError(f"{text!r} is not a dead-letter id: use <partition>:<offset>, e.g. 0:42")
    return (int(partition), int(offset))


def _same_type(wanted: str, actual: str | None) -> bool:
    return actual is not None and (actual == wanted or actual.rsplit(".", 1)[-1] == wanted)
