"""What applying a topology would change on a cluster: a pure comparison, printed before acting.

Kafka can add partitions and change topic configs in place; it cannot remove partitions, and
changing the replication factor needs a partition reassignment. Those are refused, as is a
replication factor above the number of brokers, and one refusal stops the whole apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from conveyor.topology.model import TopicSpec, Topology


@dataclass(frozen=True)
class ActualTopic:
    """A topic as the cluster has it (only the settings conveyor manages)."""

    name: str
    partitions: int
    replication_factor: int
    configs: Mapping[str, str]


class ChangeKind(StrEnum):
    CREATE = "create"
    ADD_PARTITIONS = "add-partitions"
    ALTER_CONFIGS = "alter-configs"


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    topic: TopicSpec
    configs: Mapping[str, tuple[str | None, str]] = field(default_factory=dict)  # key: (old, new)
    partitions_from: int = 0

    def __str__(self) -> str:
        t = self.topic
        if self.kind is ChangeKind.CREATE:
            return (
                f"+ create {t.name}: {t.partitions} partitions, "
                f"replication {t.replication_factor}, min ISR {t.min_insync_replicas}, "
                f"retention {human_ms(t.retention_ms)}, "
                f"{t.cleanup_policy}"
            )
        if self.kind is ChangeKind.ADD_PARTITIONS:
            return (
                f"~ {t.name}: partitions {self.partitions_from} -> {t.partitions} "
                "(keys hash to new partitions from now on; their order restarts there)"
            )
        changed = ", ".join(f"{k} {old} -> {new}" for k, (old, new) in self.configs.items())
        return f"~ {t.name}: {changed}"


@dataclass(frozen=True)
class Refusal:
    topic: str
    reason: str

    def __str__(self) -> str:
        return f"! refused {self.topic}: {self.reason}"


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    refusals: tuple[Refusal, ...]
    unchanged: tuple[str, ...]

    @property
    def is_empty(self) -> bool:
        return not self.changes and not self.refusals

    def lines(self) -> list[str]:
        """The plan for people: refusals, then changes, then a count of what stays."""
        lines = [str(r) for r in self.refusals] + [str(c) for c in self.changes]
        lines.append(
            f"= {len(self.unchanged)} topic(s) unchanged"
            + ("; nothing to do" if self.is_empty else "")
        )
        return lines


def plan(topology: Topology, actual: Mapping[str, ActualTopic], brokers: int) -> Plan:
    """Compare the declared topics with the cluster's (`actual`, by name) of `brokers` nodes."""
    changes: list[Change] = []
    refusals: list[Refusal] = []
    unchanged: list[str] = []
    for spec in topology.topics:
        current = actual.get(spec.name)
        if spec.replication_factor > brokers:
            refusals.append(
                Refusal(
                    spec.name,
                    f"replication factor {spec.replication_factor} needs as many brokers, the "
                    f"cluster has {brokers} (on a dev broker, leave out --profile production)",
                )
            )
            continue
        if current is None:
            changes.append(Change(ChangeKind.CREATE, spec))
            continue
        found = _compare(spec, current)
        if isinstance(found, Refusal):
            refusals.append(found)
        elif found:
            changes.extend(found)
        else:
            unchanged.append(spec.name)
    return Plan(tuple(changes), tuple(refusals), tuple(unchanged))


def _compare(spec: TopicSpec, current: ActualTopic) -> Refusal | list[Change]:
    if current.replication_factor != spec.replication_factor:
        return Refusal(
            spec.name,
            f"replication factor is {current.replication_factor}, declared "
            f"{spec.replication_factor}: that needs a partition reassignment "
            "(kafka-reassign-partitions), not an apply",
        )
    if current.partitions > spec.partitions:
        return Refusal(
            spec.name,
            f"has {current.partitions} partitions, declared {spec.partitions}: Kafka cannot "
            f"remove partitions (declare {current.partitions}, or recreate the topic and lose "
            "its data)",
        )
    found: list[Change] = []
    if current.partitions < spec.partitions:
        found.append(Change(ChangeKind.ADD_PARTITIONS, spec, partitions_from=current.partitions))
    configs = {
        key: (current.configs.get(key), value)
        for key, value in spec.configs().items()
        if current.configs.get(key) != value
    }
    if configs:
        found.append(Change(ChangeKind.ALTER_CONFIGS, spec, configs=configs))
    return found


def human_ms(millis: int) -> str:
    """`604800000` -> `7d`; `-1` -> `forever`."""
    if millis < 0:
        return "forever"
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if millis and millis % size == 0:
            return f"{millis // size}{unit}"
    return f"{millis}ms"
