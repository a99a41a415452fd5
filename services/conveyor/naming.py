"""Names that are contracts: topics derived from a service's name, and the headers conveyor writes.

Dashboards, scripts and other teams' tools depend on these; change none of them lightly.
"""

from __future__ import annotations

from typing import Final

# Message headers on every event.
EVENT_TYPE: Final = "event-type"
EVENT_ID: Final = "event-id"
CONTENT_TYPE: Final = "content-type"
CORRELATION_ID: Final = "correlation-id"
TRACEPARENT: Final = "traceparent"
AVRO_CONTENT_TYPE: Final = "application/vnd.apache.avro+binary"
# On every event of a topic with lanes: its lane. Retry tiers, dead letters and redrives keep it.
LANE: Final = "x-lane"

# Headers added when an event leaves its topic for a retry tier or the dead letters.
ORIGINAL_TOPIC: Final = "x-original-topic"
ORIGINAL_PARTITION: Final = "x-original-partition"
ORIGINAL_OFFSET: Final = "x-original-offset"
ORIGINAL_TIMESTAMP: Final = "x-original-timestamp"
CONSUMER_GROUP: Final = "x-consumer-group"
ATTEMPTS: Final = "x-attempts"
ERROR_TYPE: Final = "x-error-type"
ERROR_MESSAGE: Final = "x-error-message"
FIRST_FAILED_AT: Final = "x-first-failed-at"
LAST_FAILED_AT: Final = "x-last-failed-at"
RETRY_DUE_AT: Final = "x-retry-due-at"  # epoch millis before which a retry tier holds the event
PARKED_BEHIND: Final = "x-parked-behind"  # on later events of a parked key: the first one's id
REDRIVE_COUNT: Final = "x-redrive-count"
# On every redriven event of a parked key that the redrive releases, and on the tombstone it
# writes for the key: the key's source partition. The last such event also carries
# `x-redrive-last`; the runtime releases the key once that one is done.
REDRIVE_RELEASES: Final = "x-redrive-releases"
REDRIVE_LAST: Final = "x-redrive-last"
# On an event waiting in the delay topic: where it goes, and when (epoch millis, not before).
DELAY_DESTINATION: Final = "x-delay-topic"
DELAY_DUE_AT: Final = "x-delay-due-at"
# On the tombstone the runtime writes when a redriven key is done: the last source offset redriven.
RELEASED_THROUGH: Final = "x-released-through"

DEAD_LETTER_HEADERS: Final = (
    ORIGINAL_TOPIC,
    ORIGINAL_PARTITION,
    ORIGINAL_OFFSET,
    ORIGINAL_TIMESTAMP,
    CONSUMER_GROUP,
    ATTEMPTS,
    ERROR_TYPE,
    ERROR_MESSAGE,
    FIRST_FAILED_AT,
    LAST_FAILED_AT,
)


def lane_topic(topic: str, lane: str) -> str:
    """`<topic>.lane.<lane>`: a lane of a topic with lanes, other than its default lane (which
    is the topic itself)."""
    return f"{topic}.lane.{lane}"


def retry_topic(service: str, tier: int) -> str:
    """`<service>.retry.<n>`, tiers counted from 1."""
    if tier < 1:
        raise ValueError(f"retry tiers count from 1, not {tier}")
    return f"{service}.retry.{tier}"


def dead_letter_topic(service: str) -> str:
    return f"{service}.dlq"


def parked_topic(service: str) -> str:
    """Compacted topic of the keys an ordered service has parked (key -> first dead letter)."""
    return f"{service}.parked"


def parked_record_key(topic: str, key: bytes | None) -> bytes:
    """The key of a `<service>.parked` record: the source topic, a NUL byte, then the event's key,
    so compaction keeps one record per parked key and a tombstone with it releases the key (the
    runtime parks under it, `conveyor dlq redrive` releases under it)."""
    return topic.encode() + b"\x00" + (key or b"")


def split_parked_record_key(record_key: bytes) -> tuple[str, bytes]:
    """(source topic, source key) of a `<service>.parked` record key."""
    topic, _, key = record_key.partition(b"\x00")
    return topic.decode(errors="replace"), key


def redrive_topic(service: str) -> str:
    """Where an ordered service (no retry tiers) receives its redriven dead letters."""
    return f"{service}.redrive"


# Delayed events wait in one topic for the whole deployment, keyed by entity key; cancels are
# records keyed by event id in a compacted topic beside it. Declared in `schemas/topics.yaml`.
DELAY_TOPIC: Final = "conveyor.delayed"
DELAY_CANCEL_TOPIC: Final = "conveyor.delayed.cancel"
SCHEDULER_GROUP: Final = "conveyor-scheduler"

# Operators' pauses (`conveyor pause SERVICE [--topic T]`): compacted, one record per paused
# (service, topic) pair, a tombstone to resume. Every service process watches it.
CONTROL_TOPIC: Final = "conveyor.control"

# Replay windows (`conveyor replay`): compacted, one record per consumer group, read by each service
# when it starts. The operations commands' assign-only readers, and a service reading its replay
# windows, name the group `conveyor-ops-reader` (never joined; the ACLs grant it).
REPLAYS_TOPIC: Final = "conveyor.replays"
OPS_READER_GROUP: Final = "conveyor-ops-reader"
