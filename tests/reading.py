"""How a test reads topics back: committed records, from the start of every partition.

- `read_until`: records that services or a scheduler write while the test waits, until at least
  `expect` came and then none for `settle` seconds (so duplicates and extras show too).
- `read_to_end`: a topic whose writers are done (flushed), to where it ends now, through the
  library's own reader (`conveyor.clients.reader`): a broker node lost meanwhile is waited out.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Message, TopicPartition

from conveyor.clients import Outage, reader

POLL = 0.1  # seconds one consume() may wait


def read_until(
    bootstrap: str,
    topics: str | Sequence[str],
    expect: int,
    *,
    timeout: float = 60.0,
    settle: float = 1.0,
) -> list[Message]:
    """The committed messages of `topics` from their start, in the order they came: at least
    `expect`, and every partition read to its end, then on until `settle` seconds pass without a
    new one. `timeout` bounds the time spent waiting for messages, not reading them, so a long
    topic is read to its end; when it runs out the caller's assertions say what is missing."""
    names = [topics] if isinstance(topics, str) else list(topics)
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"test-reader-{uuid.uuid4().hex[:8]}",  # never joined
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "isolation.level": "read_committed",
            "auto.offset.reset": "earliest",
        }
    )
    try:
        assignment = []
        for topic in names:
            partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
            assignment += [TopicPartition(topic, p, OFFSET_BEGINNING) for p in sorted(partitions)]
        consumer.assign(assignment)
        messages: list[Message] = []
        at_end: set[tuple[str | None, int | None]] = set()  # read up to their end meanwhile
        waited = 0.0
        last = time.monotonic()
        while waited < timeout:
            quiet = time.monotonic() - last >= settle
            if len(messages) >= expect and len(at_end) == len(assignment) and quiet:
                break
            started = time.monotonic()
            came = 0
            for message in consumer.consume(500, POLL):
                error = message.error()
                where = (message.topic(), message.partition())
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        at_end.add(where)
                    continue
                at_end.discard(where)
                messages.append(message)
                came += 1
            if came:
                last = time.monotonic()
            else:
                waited += time.monotonic() - started
        return messages
    finally:
        consumer.close()


def read_to_end(bootstrap: str, topic: str, timeout: float = 120.0) -> list[Message]:
    """Every committed message of `topic` up to where it ends now, in partition-offset order."""
    messages = reader.read_topic(
        {"bootstrap.servers": bootstrap},
        topic,
        f"test-reader-{uuid.uuid4().hex[:8]}",
        Outage("test read", topic=topic),
        timeout=timeout,
    )
    return sorted(messages, key=lambda m: (m.partition() or 0, m.offset() or 0))
