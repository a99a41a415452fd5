"""The broker calls the operations commands make: metadata, watermarks, group offsets, members.

Everything is read from the broker, never from a running service, so the numbers hold while a
service is down. Every call is bounded by the timeout the broker was opened with; within it,
transient errors (a node restarting, a leader moving) are asked again (`conveyor.clients`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from confluent_kafka import (
    Consumer,
    ConsumerGroupTopicPartitions,
    IsolationLevel,
    KafkaError,
    KafkaException,
    TopicPartition,
)
from confluent_kafka.admin._listoffsets import OffsetSpec  # re-exported untyped by admin
from confluent_kafka.cimpl import NewTopic

from conveyor.clients import KafkaUnavailableError, kafka_error_of, with_logs
from conveyor.clients.contact import QUIET, Contact
from conveyor.clients.errors import BrokerRefusedError, BrokerUnreachableError
from conveyor.ops.errors import KafkaOperationError, TopicNotFoundError

TP = tuple[str, int]
"""A topic partition, as a plain hashable pair."""

T = TypeVar("T")


@dataclass(frozen=True)
class Member:
    """One live member of a consumer group."""

    member_id: str
    client_id: str
    host: str
    assignment: tuple[TP, ...]

    def describe(self) -> str:
        return f"{self.client_id}@{self.host.lstrip('/')} ({self.member_id[:12]})"


@dataclass(frozen=True)
class GroupInfo:
    """A consumer group's state (`stable`, `empty`, `dead` (unknown) ...) and its members."""

    group: str
    state: str
    members: tuple[Member, ...]


class Broker:
    """An admin connection with a timeout, and the client settings the commands share."""

    def __init__(self, bootstrap: str, timeout: float = 10.0) -> None:
        self.bootstrap = bootstrap
        self.timeout = timeout
        self._contact = Contact(bootstrap, timeout)
        self._admin = self._contact.admin
        self._partitions: dict[str, int] = {}

    @classmethod
    def connect(cls, bootstrap: str, timeout: float = 10.0) -> Broker:
        """Open and check the broker answers within `timeout`, else `BrokerUnreachableError`."""
        broker = cls(bootstrap, timeout)
        broker.refresh()
        return broker

    def client_config(self, **overrides: Any) -> dict[str, Any]:
        """Settings for a consumer or producer the commands create (never committing offsets)."""
        return with_logs({"bootstrap.servers": self.bootstrap, **QUIET, **overrides})

    def refresh(self) -> None:
        try:
            metadata = self._contact.metadata()
        except BrokerRefusedError as exc:
            raise KafkaOperationError(f"connecting to {self.bootstrap}", exc.refusal) from exc
        self._partitions = {
            name: len(topic.partitions)
            for name, topic in metadata.topics.items()
            if not name.startswith("__")
        }

    def topics(self) -> dict[str, int]:
        """Every non-internal topic and its partition count, as the broker has them now."""
        self.refresh()
        return dict(self._partitions)

    def partitions(self, topic: str) -> list[TP]:
        if topic not in self._partitions:
            self.refresh()
        if topic not in self._partitions:
            raise TopicNotFoundError(topic)
        return [(topic, p) for p in range(self._partitions[topic])]

    def watermarks(self, parts: Iterable[TP]) -> dict[TP, tuple[int, int]]:
        """(earliest, end) per partition; the end is the last stable offset, as committed
        readers see it."""
        parts = list(parts)
        low = self._list_offsets(parts, OffsetSpec.earliest())  # type: ignore[no-untyped-call]
        high = self._list_offsets(parts, OffsetSpec.latest())  # type: ignore[no-untyped-call]
        return {tp: (low[tp], high[tp]) for tp in parts}

    def wait_stable(self, parts: Iterable[TP], timeout: float) -> bool:
        """Wait until no open transaction holds back committed readers on `parts` (the last
        stable offset has reached the high watermark); False when `timeout` passed first."""
        parts = list(parts)
        deadline = time.monotonic() + timeout
        while True:
            stable = self._list_offsets(parts, OffsetSpec.latest())  # type: ignore[no-untyped-call]
            high = self._list_offsets(
                parts,
                OffsetSpec.latest(),  # type: ignore[no-untyped-call]
                IsolationLevel.READ_UNCOMMITTED,
            )
            if stable == high:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)

    def offsets_for_time(self, parts: Iterable[TP], epoch_ms: int) -> dict[TP, int | None]:
        """Per partition, the first offset at or after `epoch_ms`; None when there is none."""
        found = self._list_offsets(list(parts), OffsetSpec.for_timestamp(epoch_ms))
        return {tp: (offset if offset >= 0 else None) for tp, offset in found.items()}

    def _list_offsets(
        self,
        parts: list[TP],
        spec: OffsetSpec,
        isolation: IsolationLevel = IsolationLevel.READ_COMMITTED,
    ) -> dict[TP, int]:
        if not parts:
            return {}
        request = {TopicPartition(t, p): spec for t, p in parts}

        def offsets() -> dict[TP, int]:
            futures = self._admin.list_offsets(
                request, isolation_level=isolation, request_timeout=self.timeout
            )
            return {
                (tp.topic, tp.partition): future.result(timeout=self.timeout).offset
                for tp, future in futures.items()
            }

        return self._call(offsets, "listing offsets")

    def groups(self) -> list[str]:
        listing = self._call(
            lambda: self._admin.list_consumer_groups(request_timeout=self.timeout).result(
                timeout=self.timeout
            ),
            "listing groups",
        )
        return sorted(g.group_id for g in listing.valid)

    def describe_group(self, group: str) -> GroupInfo:
        found = self._call(
            lambda: self._admin.describe_consumer_groups([group], request_timeout=self.timeout)[
                group
            ].result(timeout=self.timeout),
            f"describing group {group!r}",
        )
        members = tuple(
            Member(
                member_id=m.member_id,
                client_id=m.client_id,
                host=m.host,
                assignment=tuple(
                    (tp.topic, tp.partition)
                    for tp in (m.assignment.topic_partitions if m.assignment else [])
                ),
            )
            for m in found.members
        )
        return GroupInfo(group=group, state=found.state.name.lower(), members=members)

    def committed(self, group: str) -> dict[TP, int]:
        """The group's committed offsets, all topics (an empty dict when it has none).

        Read through a consumer of the group that never joins it, not the admin API: librdkafka's
        admin OffsetFetch dereferences a consumer-group handle an admin client does not have when
        the coordinator answers NOT_COORDINATOR (a fresh or moving coordinator), and the process
        dies of a segmentation fault.
        """
        self.refresh()
        parts = [
            TopicPartition(topic, partition)
            for topic, count in sorted(self._partitions.items())
            for partition in range(count)
        ]
        if not parts:
            return {}
        reader = Consumer(self.client_config(**{"group.id": group, "enable.auto.commit": False}))
        try:
            found = self._call(
                lambda: reader.committed(parts, timeout=self.timeout),
                f"reading offsets of group {group!r}",
            )
        finally:
            reader.close()
        return {(tp.topic, tp.partition): tp.offset for tp in found if tp.offset >= 0}

    def alter_offsets(self, group: str, offsets: Mapping[TP, int]) -> None:
        """Set the group's committed offsets; the broker refuses while the group has members."""
        parts = [TopicPartition(t, p, o) for (t, p), o in sorted(offsets.items())]
        request = [ConsumerGroupTopicPartitions(group, parts)]
        result = self._call(
            lambda: self._admin.alter_consumer_group_offsets(request, request_timeout=self.timeout)[
                group
            ].result(timeout=self.timeout),
            f"moving offsets of group {group!r}",
        )
        failed = [tp for tp in result.topic_partitions if tp.error is not None]
        if failed:
            raise KafkaOperationError(f"moving offsets of group {group!r}", failed[0].error)

    def ensure_compacted_topic(self, name: str, partitions: int = 1) -> None:
        """Create a compacted topic for the commands' own records unless it exists."""
        if name in self.topics():
            return
        replication = min(3, self._broker_count())
        topic = NewTopic(
            name,
            num_partitions=partitions,
            replication_factor=replication,
            config={"cleanup.policy": "compact"},
        )

        def create() -> None:
            future = self._admin.create_topics([topic], request_timeout=self.timeout)[name]
            try:
                future.result(timeout=self.timeout)
            except KafkaException as exc:
                error = kafka_error_of(exc)
                if error is None or error.code() != KafkaError.TOPIC_ALREADY_EXISTS:
                    raise

        self._call(create, f"creating topic {name!r}")
        self._partitions[name] = partitions

    def _broker_count(self) -> int:
        return len(self._ask(lambda: self._admin.list_topics(timeout=self.timeout)).brokers)

    def _ask(self, call: Callable[[], T]) -> T:
        """`call()`, asked again on transient errors until the broker's timeout."""
        return self._contact.ask(call)

    def _call(self, call: Callable[[], T], what: str) -> T:
        """`_ask`, its failures as the commands' errors: `BrokerUnreachableError` when no
        answer came in time, `KafkaOperationError` keeping the client's error otherwise."""
        try:
            return self._ask(call)
        except KafkaUnavailableError as exc:
            if isinstance(exc.last, TimeoutError):
                raise BrokerUnreachableError(self.bootstrap, self.timeout) from exc
            raise KafkaOperationError(what, kafka_error_of(exc.last) or exc) from exc
        except KafkaException as exc:
            raise KafkaOperationError(what, kafka_error_of(exc) or exc) from exc
