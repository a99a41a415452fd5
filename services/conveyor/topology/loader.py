"""Reading `schemas/topics.yaml` into a `Topology`, with an optional profile's overrides.

A profile (`profiles: production: ...`) is a partial document merged over the rest of the file,
so production states only what differs (replication 3, min ISR 2), never a copy of everything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from conveyor.events.base import Event
from conveyor.lanes.errors import LaneError
from conveyor.lanes.model import Lanes
from conveyor.ordering import Ordering
from conveyor.topology.errors import TopologyFileError
from conveyor.topology.model import ServiceSpec, TopicRole, TopicSpec, Topology

_UNITS: Final = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_DURATION: Final = re.compile(r"^\s*(\d+)\s*(ms|s|m|h|d)\s*$")
_TOPIC_NAME: Final = re.compile(r"^[A-Za-z0-9._-]{1,249}$")


def parse_millis(value: object) -> object:
    """`"500ms"`, `"10s"`, `"5m"`, `"2h"`, `"7d"` or `"forever"` (-1) to milliseconds."""
    if isinstance(value, str):
        if value.strip() == "forever":
            return -1
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(f"{value!r} is not a duration like 500ms, 10s, 5m, 2h, 7d or forever")
        return int(match[1]) * _UNITS[match[2]]
    return value


Millis = Annotated[int, BeforeValidator(parse_millis), Field(ge=-1)]
CleanupPolicy = Literal["delete", "compact", "compact,delete"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Settings(_Strict):
    """Topic settings, each optional: a more specific section overrides a more general one."""

    partitions: int | None = Field(default=None, ge=1)
    replication_factor: int | None = Field(default=None, ge=1)
    min_insync_replicas: int | None = Field(default=None, ge=1)
    retention: Millis | None = None
    cleanup_policy: CleanupPolicy | None = None


class _Lanes(_Strict):
    names: tuple[str, ...]  # highest first
    default: str  # the topic itself
    field: str | None = None  # the event field whose value names the lane
    share: float = Field(default=0.1, gt=0, lt=1)
    period: Millis = 1000
    resume_after: Millis = 100


class _EventTopic(_Settings):
    events: tuple[str, ...] = ()
    key: str | None = None  # the field of its events whose value is the Kafka key
    lanes: _Lanes | None = None


class _Service(_Strict):
    consumes: tuple[str, ...] = Field(min_length=1)
    ordering: Ordering
    retry_tiers: tuple[Millis, ...] = ()
    produces: tuple[str, ...] = ()


class _File(_Strict):
    defaults: _Settings
    retry_topics: _Settings = _Settings()
    dead_letter_topics: _Settings = _Settings()
    parked_topics: _Settings = _Settings()
    redrive_topics: _Settings = _Settings()
    topics: dict[str, _EventTopic]
    services: dict[str, _Service] = {}


KnownEvents = Mapping[str, type[Event] | None]
"""Each event a project knows (Avro full name) -> the model bound to it, or None."""


def load(path: Path, profile: str | None = None, events: KnownEvents | None = None) -> Topology:
    """The topology `path` declares, with `profile`'s overrides merged in when given; with
    `events`, every event a topic carries must be one of them, on its model's topic."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TopologyFileError(f"cannot read the topology {path}: {exc}") from exc
    if not isinstance(document, dict):
        raise TopologyFileError(f"{path}: expected a mapping at the top")
    return parse(document, profile=profile, source=str(path), events=events)


def parse(
    document: Mapping[str, Any],
    profile: str | None = None,
    source: str = "topology",
    events: KnownEvents | None = None,
) -> Topology:
    """Like `load`, from an already parsed document."""
    profiles = dict(document.get("profiles") or {})
    base = {k: v for k, v in document.items() if k != "profiles"}
    if profile is not None:
        if profile not in profiles:
            known = ", ".join(sorted(profiles)) or "none"
            raise TopologyFileError(f"{source}: no profile {profile!r} (profiles: {known})")
        base = merge(base, profiles[profile])
    try:
        declared = _File.model_validate(base)
    except ValidationError as exc:
        raise TopologyFileError(f"{source}: {exc}") from exc
    return _build(declared, source, events)


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`override` laid over `base`, mappings merged key by key, anything else replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _build(declared: _File, source: str, events: KnownEvents | None) -> Topology:
    topics = []
    for name, topic in declared.topics.items():
        lanes = _lanes(name, topic.lanes, source)
        spec = _topic(name, TopicRole.EVENTS, [topic, declared.defaults], events=topic.events)
        topics.append(replace(spec, lanes=lanes))
        if lanes is not None:
            topics.extend(
                replace(spec, name=lane_topic, role=TopicRole.LANE)
                for lane_topic in lanes.topics(name)
                if lane_topic != name
            )
    partitions = {t.name: t.partitions for t in topics if t.role is TopicRole.EVENTS}
    services = []
    for name, decl in declared.services.items():
        for verb, names in (("consumes", decl.consumes), ("produces", decl.produces)):
            unknown = [t for t in names if t not in partitions]
            if unknown:
                raise TopologyFileError(f"{source}: service {name} {verb} undeclared {unknown}")
        if decl.ordering is Ordering.ORDERED and decl.retry_tiers:
            raise TopologyFileError(
                f"{source}: service {name} is ordered: it retries in place, without retry tiers"
            )
        service = ServiceSpec(
            name=name,
            consumes=decl.consumes,
            ordering=decl.ordering,
            retry_tiers=tuple(timedelta(milliseconds=ms) for ms in decl.retry_tiers),
            produces=decl.produces,
        )
        services.append(service)
        width = _Settings(partitions=max(partitions[t] for t in decl.consumes))
        derived = [(t, TopicRole.RETRY, declared.retry_topics) for t in service.retry_topics]
        derived.append(
            (service.dead_letter_topic, TopicRole.DEAD_LETTER, declared.dead_letter_topics)
        )
        if service.parked_topic is not None:
            derived.append((service.parked_topic, TopicRole.PARKED, declared.parked_topics))
        if service.redrive_topic is not None:
            derived.append((service.redrive_topic, TopicRole.REDRIVE, declared.redrive_topics))
        topics.extend(
            _topic(topic, role, [section, width, declared.defaults], service=name)
            for topic, role, section in derived
        )
    topology = Topology(topics=tuple(topics), services=tuple(services))
    _check(topology, source, events)
    if events is not None:
        for name, topic in declared.topics.items():
            _check_key(name, topic, source, events)
    return topology


def _lanes(name: str, declared: _Lanes | None, source: str) -> Lanes | None:
    if declared is None:
        return None
    try:
        return Lanes(
            names=declared.names,
            default=declared.default,
            field=declared.field,
            share=declared.share,
            period_s=declared.period / 1000,
            resume_after_s=declared.resume_after / 1000,
        )
    except LaneError as exc:
        raise TopologyFileError(f"{source}: topic {name}: {exc}") from exc


def _topic(
    name: str,
    role: TopicRole,
    layers: list[_Settings],
    events: tuple[str, ...] = (),
    service: str | None = None,
) -> TopicSpec:
    """A topic whose every setting comes from the first layer that states it."""

    def pick(setting: str) -> Any:
        for layer in layers:
            value = getattr(layer, setting)
            if value is not None:
                return value
        raise TopologyFileError(f"topic {name}: no {setting} (set it under defaults)")

    return TopicSpec(
        name=name,
        partitions=pick("partitions"),
        replication_factor=pick("replication_factor"),
        min_insync_replicas=pick("min_insync_replicas"),
        retention_ms=pick("retention"),
        cleanup_policy=pick("cleanup_policy"),
        role=role,
        event_types=events,
        service=service,
    )


def _check(topology: Topology, source: str, events: KnownEvents | None) -> None:
    seen: set[str] = set()
    for topic in topology.topics:
        problem = None
        if topic.name in seen:
            problem = "is declared twice"
        elif not _TOPIC_NAME.match(topic.name):
            problem = "is not a legal Kafka topic name"
        elif topic.min_insync_replicas > topic.replication_factor:
            problem = (
                f"has min.insync.replicas {topic.min_insync_replicas} above its "
                f"replication factor {topic.replication_factor}: no write could ever succeed"
            )
        elif events is not None and topic.role is TopicRole.EVENTS:
            problem = _event_problem(topic, events)
        if problem:
            raise TopologyFileError(f"{source}: topic {topic.name} {problem}")
        seen.add(topic.name)


def _check_key(name: str, topic: _EventTopic, source: str, events: KnownEvents) -> None:
    """A declared key is the key field of every model the topic carries; a lane field is a field
    of one of them at least."""
    field = topic.lanes.field if topic.lanes is not None else None
    models = [m for m in (events.get(e) for e in topic.events) if m is not None]
    if field is not None and models and not any(field in m.model_fields for m in models):
        raise TopologyFileError(
            f"{source}: topic {name} picks lanes by {field}, a field of none of its events"
        )
    for event in topic.events:
        model = events.get(event)
        if topic.key is not None and model is not None and topic.key != model.KEY_FIELD:
            raise TopologyFileError(
                f"{source}: topic {name} is keyed by {topic.key}, but {event} by {model.KEY_FIELD}"
            )


def _event_problem(topic: TopicSpec, events: KnownEvents) -> str | None:
    for name in topic.event_types:
        if name not in events:
            return f"carries {name}, which no schema of the project defines"
        model = events[name]
        if model is not None and topic.name != model.TOPIC:
            return f"carries {name}, whose model travels on {model.TOPIC}"
    return None
