"""What the generator reads: the newest version of each event schema, and from the topology the
topic each event travels on and the field whose value is its Kafka key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from conveyor.codec import SchemaSet
from conveyor.codegen.errors import GenerationError

# What every event carries, as `conveyor.events.Event` writes it.
BASE_FIELDS: Final[Mapping[str, Mapping[str, str]]] = {
    "event_id": {"type": "string", "logicalType": "uuid"},
    "occurred_at": {"type": "long", "logicalType": "timestamp-millis"},
}


@dataclass(frozen=True)
class EventSchema:
    """The newest version of one event schema and where its events travel."""

    full_name: str
    path: Path
    parsed: dict[str, Any]  # fastavro's parsed form: full names, named types defined once
    topic: str
    key_field: str


@dataclass(frozen=True)
class Binding:
    """What the topology says of one event: its topic and its key field."""

    topic: str
    key_field: str


def load_events(schema_dir: Path, topology_file: Path) -> tuple[EventSchema, ...]:
    """The newest version of every schema under `schema_dir`, by full name, with its binding."""
    schemas = SchemaSet.load(schema_dir)
    bindings = load_bindings(topology_file)
    events = []
    for name in schemas.names():
        newest = schemas.versions(name)[-1]
        binding = bindings.get(name)
        if binding is None:
            raise GenerationError(
                topology_file,
                f"no topic carries {name} (from {newest.path}): list it under a topic's events",
            )
        events.append(
            EventSchema(name, newest.path, newest.parsed, binding.topic, binding.key_field)
        )
        check_event_fields(events[-1])
    return tuple(events)


def load_bindings(topology_file: Path) -> dict[str, Binding]:
    """Event full name -> its topic and key field, as `topics:` in the topology declares them.

    Read leniently (only `topics.<name>.events` and `.key`): the rest of the file is the
    topology loader's to check, and it checks events against models that may not exist yet.
    """
    try:
        document = yaml.safe_load(topology_file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise GenerationError(topology_file, f"cannot read the topology: {exc}") from exc
    topics = document.get("topics") if isinstance(document, dict) else None
    if not isinstance(topics, dict):
        raise GenerationError(topology_file, "expected a mapping `topics:` of topic -> settings")
    bindings: dict[str, Binding] = {}
    for topic, settings in topics.items():
        events = (settings or {}).get("events") or []
        key = (settings or {}).get("key")
        if not events:
            continue
        if not isinstance(key, str):
            raise GenerationError(
                topology_file,
                f"topic {topic} carries events but names no key: add `key: <field>`, the field "
                "whose value is the Kafka key (the entity id)",
            )
        for event in events:
            if event in bindings:
                raise GenerationError(
                    topology_file,
                    f"{event} is listed on two topics: {bindings[event].topic}, {topic}",
                )
            bindings[event] = Binding(str(topic), key)
    return bindings


def check_event_fields(event: EventSchema) -> None:
    """An event schema carries `event_id` and `occurred_at` as `Event` writes them, and its key
    field."""
    fields = {field["name"]: field["type"] for field in event.parsed["fields"]}
    for name, kind in BASE_FIELDS.items():
        if fields.get(name) != kind:
            raise GenerationError(
                event.path,
                f"an event schema needs the field {name} of type {dict(kind)} "
                f"(found {fields.get(name, 'none')})",
            )
    if event.key_field not in fields:
        raise GenerationError(
            event.path,
            f"the topology keys topic {event.topic} by {event.key_field}, "
            f"a field {event.full_name} lacks",
        )
