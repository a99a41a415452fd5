"""Test-side Kafka helpers: a plain consumer that reads whole topics back."""

from __future__ import annotations

import time
import uuid

from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, TopicPartition


def read_topics(
    bootstrap: str, topics: list[str], expected: int, timeout: float = 60.0
) -> list[Message]:
    """Every message of `topics` from the beginning, once at least `expected` arrived (or the
    timeout passed: the caller's assertions then say what is missing)."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"test-reader-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    try:
        assignment = []
        for topic in topics:
            meta = consumer.list_topics(topic, timeout=30).topics[topic]
            assignment += [TopicPartition(topic, p, OFFSET_BEGINNING) for p in meta.partitions]
        consumer.assign(assignment)
        messages: list[Message] = []
        deadline = time.monotonic() + timeout
        idle_until = 0.0
        while time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                if len(messages) >= expected and time.monotonic() >= idle_until:
                    break
                continue
            if msg.error():
                continue
            messages.append(msg)
            idle_until = time.monotonic() + 1.0  # read on a little for unexpected extras
        return messages
    finally:
        consumer.close()
