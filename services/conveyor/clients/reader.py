"""Reading a topic back to where it ends: the one topic reader of the library.

An assign-only consumer (its group is never joined and nothing is committed) reads given offset
ranges, or a whole topic up to where it ended when the read began. The parked keys and recent
dead letters a service loads, the replay windows it loads at start, the operations commands'
scans and the demo's look at the dead letters all read this way.

Transient errors (a broker node restarting, a leader moving) are waited out: within a read the
consumer fetches again by itself and the outage is logged once (`conveyor.clients.Outage`); a read
that hears nothing for longer than its timeout raises a transient `TopicReadError`, so
`read_topic` starts it again through `wait_out` while the caller's deadline allows. Any other
error raises at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any, Final

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from conveyor.clients.errors import TopicReadError
from conveyor.clients.logs import with_logs
from conveyor.clients.transient import MISSING_TOPIC_CODES, is_transient
from conveyor.clients.waiting import Outage, wait_out

TP = tuple[str, int]
"""A topic partition, as a plain hashable pair."""

BATCH: Final = 500  # messages asked of the client at once
ATTEMPT_TIMEOUT: Final = 10.0  # seconds one request or one silence of a read may take


def assign_only(config: Mapping[str, Any], group: str) -> Consumer:
    """A consumer that is assigned partitions and never commits, seeing committed records only.
    `group` is never joined: the client requires one (and a secured cluster's ACLs name it)."""
    return Consumer(
        with_logs(
            {
                **config,
                "group.id": group,
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "enable.partition.eof": True,
                "isolation.level": "read_committed",
                "auto.offset.reset": "earliest",
            }
        )
    )


def attempt_timeout(timeout: float | None) -> float:
    """How long one request of a wait bounded by `timeout` (None: unbounded) may take."""
    return ATTEMPT_TIMEOUT if timeout is None else min(timeout, ATTEMPT_TIMEOUT)


def watermarks(consumer: Consumer, topic: str, timeout: float) -> dict[int, tuple[int, int]]:
    """Partition -> (low, high) of every partition of `topic`, each request bounded by
    `timeout`. A partition without a leader (a topic just created, a node that died) raises the
    client's transient LEADER_NOT_AVAILABLE, a missing topic its UNKNOWN_TOPIC_OR_PART."""
    metadata = consumer.list_topics(topic, timeout=timeout).topics[topic]
    if metadata.error is not None:
        raise KafkaException(metadata.error)
    leaderless = [p for p, info in metadata.partitions.items() if info.leader < 0]
    if leaderless or not metadata.partitions:
        reason = f"no leader for partitions {sorted(leaderless)}"
        raise KafkaException(KafkaError(KafkaError.LEADER_NOT_AVAILABLE, reason))
    return {
        partition: consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout)
        for partition in sorted(metadata.partitions)
    }


def read_ranges(
    consumer: Consumer,
    ranges: Mapping[TP, tuple[int, int | None]],
    timeout: float,
    outage: Outage | None = None,
    *,
    limit: int | None = None,
) -> Iterator[Any]:
    """The messages in `[start, end)` of each partition (end None: up to where the partition
    ends now), in log order per partition; with `limit`, at most that many per partition.

    A silence of `timeout` seconds while partitions are still pending raises a transient
    `TopicReadError`; transient errors the consumer reports meanwhile pass, through `outage`."""
    pending = {tp: end for tp, (start, end) in ranges.items() if end is None or start < end}
    if not pending:
        return
    outage = outage or Outage("reading records")
    taken = dict.fromkeys(pending, 0)
    consumer.assign([TopicPartition(t, p, ranges[(t, p)][0]) for t, p in pending])
    last = time.monotonic()
    while pending:
        # consume() waits for a full batch or the timeout: keep the wait short.
        batch = consumer.consume(BATCH, timeout=0.05)
        if not batch and time.monotonic() - last > timeout:
            stalled = KafkaError(KafkaError._TIMED_OUT, f"no record for {timeout:g}s")
            raise TopicReadError(_names(pending), stalled)
        for message in batch:
            error = message.error()
            if error is not None and error.code() != KafkaError._PARTITION_EOF:
                if not is_transient(error):
                    raise TopicReadError(message.topic() or _names(pending), error)
                outage.failed(KafkaException(error))
                continue
            last = time.monotonic()
            outage.recovered()
            tp = (message.topic(), message.partition())
            if tp not in pending:
                continue
            end = pending[tp]
            offset = message.offset()
            if error is not None or offset is None or (end is not None and offset >= end):
                _finish(consumer, pending, tp)
                continue
            yield message
            taken[tp] += 1
            if (end is not None and offset >= end - 1) or taken[tp] == limit:
                _finish(consumer, pending, tp)


def read_to_end(
    consumer: Consumer,
    topic: str,
    timeout: float,
    outage: Outage | None = None,
    *,
    missing_ok: bool = False,
) -> list[Any]:
    """Every message of `topic` from its start to where it ends now (one try); none when the
    topic does not exist and `missing_ok`."""
    try:
        marks = watermarks(consumer, topic, timeout)
    except KafkaException as error:
        if missing_ok and error.args[0].code() in MISSING_TOPIC_CODES:
            return []
        raise
    ranges = {(topic, partition): mark for partition, mark in marks.items()}
    return list(read_ranges(consumer, ranges, timeout, outage))


def read_topic(
    config: Mapping[str, Any],
    topic: str,
    group: str,
    outage: Outage,
    *,
    timeout: float | None,
    missing_ok: bool = False,
    new_topic_grace: float = 0.0,
) -> list[Any]:
    """`read_to_end` with a consumer of its own, started again from the start while a transient
    error interrupts it, for up to `timeout` seconds (None: as long as the outage lasts), then
    `KafkaUnavailableError`; any other error is raised as it is. A missing topic is waited for
    during `new_topic_grace` seconds (a topic just created), unless `missing_ok`."""
    attempt = attempt_timeout(timeout)

    def once() -> list[Any]:
        consumer = assign_only(config, group)
        try:
            return read_to_end(consumer, topic, attempt, outage, missing_ok=missing_ok)
        finally:
            consumer.close()

    return wait_out(once, outage, timeout=timeout, new_topic_grace=new_topic_grace)


def _names(pending: Mapping[TP, object]) -> str:
    return ", ".join(sorted({topic for topic, _ in pending}))


def _finish(consumer: Consumer, pending: dict[TP, int | None], tp: TP) -> None:
    del pending[tp]
    consumer.pause([TopicPartition(*tp)])
