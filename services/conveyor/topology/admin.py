"""The cluster side of the topology: read what exists, and carry out a plan."""

from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import Future
from typing import Any

from confluent_kafka import KafkaError, KafkaException

# confluent-kafka re-exports these from private modules without listing them in __all__.
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewPartitions,
    NewTopic,
    ResourceType,
)

from conveyor.clients import KafkaUnavailableError, Outage, admin_client, wait_out
from conveyor.topology.errors import ClusterError, UnsafeChangeError
from conveyor.topology.model import TopicSpec
from conveyor.topology.plan import ActualTopic, ChangeKind, Plan

MANAGED_CONFIGS = ("cleanup.policy", "retention.ms", "min.insync.replicas")


class TopologyAdmin:
    """Reads topics and applies plans through one Kafka admin client."""

    def __init__(self, bootstrap_servers: str, timeout: float = 30.0) -> None:
        self._admin = admin_client({"bootstrap.servers": bootstrap_servers})
        self._bootstrap = bootstrap_servers
        self._timeout = timeout
        self._outage = Outage("topology", bootstrap=bootstrap_servers)

    def brokers(self) -> int:
        return len(self._metadata().brokers)

    def describe(self, names: Iterable[str]) -> dict[str, ActualTopic]:
        """The topics among `names` that exist, with their partitions, replication and configs."""
        metadata = self._metadata()
        present = [n for n in names if n in metadata.topics and metadata.topics[n].error is None]
        if not present:
            return {}
        resources = [ConfigResource(ResourceType.TOPIC, name) for name in present]
        futures = self._admin.describe_configs(resources, request_timeout=self._timeout)
        topics = {}
        for resource, future in futures.items():
            entries = self._wait(future, f"describe the configs of {resource.name}")
            partitions = metadata.topics[resource.name].partitions
            topics[resource.name] = ActualTopic(
                name=resource.name,
                partitions=len(partitions),
                replication_factor=min(len(p.replicas) for p in partitions.values()),
                configs={k: entries[k].value for k in MANAGED_CONFIGS if k in entries},
            )
        return topics

    def execute(self, plan: Plan) -> None:
        """Carry out every change of `plan`; refuses to start when it holds a refusal."""
        if plan.refusals:
            raise UnsafeChangeError("; ".join(f"{r.topic}: {r.reason}" for r in plan.refusals))
        creates = [c.topic for c in plan.changes if c.kind is ChangeKind.CREATE]
        if creates:
            futures = self._admin.create_topics(
                [_new_topic(t) for t in creates], operation_timeout=self._timeout
            )
            for name, future in futures.items():
                self._wait(future, f"create {name}", tolerate=KafkaError.TOPIC_ALREADY_EXISTS)
        grow = [
            NewPartitions(c.topic.name, c.topic.partitions)
            for c in plan.changes
            if c.kind is ChangeKind.ADD_PARTITIONS
        ]
        if grow:
            for name, future in self._admin.create_partitions(grow).items():
                self._wait(future, f"add partitions to {name}")
        alters = [
            ConfigResource(
                ResourceType.TOPIC,
                c.topic.name,
                incremental_configs=[
                    ConfigEntry(key, new, incremental_operation=AlterConfigOpType.SET)
                    for key, (_, new) in c.configs.items()
                ],
            )
            for c in plan.changes
            if c.kind is ChangeKind.ALTER_CONFIGS
        ]
        if alters:
            for resource, future in self._admin.incremental_alter_configs(alters).items():
                self._wait(future, f"change the configs of {resource.name}")
        self._await_metadata(
            {
                c.topic.name: c.topic.partitions
                for c in plan.changes
                if c.kind is not ChangeKind.ALTER_CONFIGS
            }
        )

    def _await_metadata(self, partitions: dict[str, int]) -> None:
        """Wait until the cluster's metadata shows the created and grown topics, so that the
        next read (or the services started next) sees them."""
        deadline = time.monotonic() + self._timeout
        while partitions:
            topics = self._metadata().topics
            if all(n in topics and len(topics[n].partitions) >= p for n, p in partitions.items()):
                return
            if time.monotonic() > deadline:
                raise ClusterError(f"the cluster did not show {sorted(partitions)} in time")
            time.sleep(0.1)

    def _metadata(self) -> Any:
        try:
            return wait_out(
                lambda: self._admin.list_topics(timeout=self._timeout),
                self._outage,
                timeout=self._timeout,
            )
        except (KafkaException, KafkaUnavailableError) as exc:
            raise ClusterError(
                f"Kafka at {self._bootstrap} did not answer within {self._timeout:g}s: {exc}"
            ) from exc

    def _wait(self, future: Future[Any], what: str, tolerate: int | None = None) -> Any:
        try:
            return future.result(timeout=self._timeout)
        except KafkaException as exc:
            error = exc.args[0] if exc.args else None
            if tolerate is not None and isinstance(error, KafkaError) and error.code() == tolerate:
                return None
            raise ClusterError(f"could not {what}: {exc}") from exc
        except TimeoutError as exc:
            raise ClusterError(f"could not {what} within {self._timeout:g}s") from exc


def _new_topic(topic: TopicSpec) -> NewTopic:
    return NewTopic(
        topic.name,
        num_partitions=topic.partitions,
        replication_factor=topic.replication_factor,
        config=topic.configs(),
    )
