"""A user's service repository as `conveyor init` writes it, with a second event added, its
models generated, a service recording what it handles and a script publishing with the
`Publisher`."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.library.installed import Venv

# The second event: a nested record, an enum, a decimal, an optional field, an array, a map.
ORDER_RECORDED = {
    "type": "record",
    "name": "OrderRecorded",
    "doc": "A greeted person ordered something.",
    "fields": [
        {"name": "event_id", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "occurred_at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "user_id", "type": "string", "doc": "Who ordered; the key."},
        {
            "name": "address",
            "type": {
                "type": "record",
                "name": "Address",
                "fields": [
                    {"name": "street", "type": "string"},
                    {"name": "city", "type": "string"},
                ],
            },
        },
        {
            "name": "tier",
            "type": {"type": "enum", "name": "Tier", "symbols": ["BRONZE", "SILVER", "GOLD"]},
        },
        {
            "name": "total",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2},
        },
        {"name": "note", "type": ["null", "string"], "default": None},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "quantities", "type": {"type": "map", "values": "int"}},
    ],
}

SERVICE = """\
import json
import os

from conveyor.runtime import Context, Service
from {package}.events import GreetingRequested, OrderRecorded

service = Service("{service}")


def record(event: GreetingRequested | OrderRecorded, ctx: Context) -> None:
    line = {{"type": event.AVRO_NAME, "event_id": str(event.event_id), "in_replay": ctx.in_replay}}
    with open(os.environ["GREETER_OUT"], "a") as out:
        out.write(json.dumps(line) + "\\n")


@service.handler(GreetingRequested)
def greeted(event: GreetingRequested, ctx: Context) -> None:
    record(event, ctx)


@service.handler(OrderRecorded)
def ordered(event: OrderRecorded, ctx: Context) -> None:
    assert event.address.city and event.quantities["tea"] == 2
    record(event, ctx)
"""

PUBLISH = """\
import json
import os
from decimal import Decimal
from pathlib import Path

from confluent_kafka import Producer

from conveyor.project import Project
from conveyor.publish import Publisher, PublisherConfig
from {package}.events import Address, GreetingRequested, OrderRecorded, Tier

bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
codec = Project.discover(Path.cwd(), os.environ).codec
events = [
    GreetingRequested(user_id="u-1", name="Ada"),
    OrderRecorded(
        user_id="u-1",
        address=Address(street="1 Main St", city="Lyon"),
        tier=Tier.GOLD,
        total=Decimal("12.50"),
        note=None,
        tags=["green", "loose"],
        quantities={{"tea": 2}},
    ),
]
with Publisher(PublisherConfig(bootstrap_servers=bootstrap), codec) as publisher:
    for handle in [publisher.publish(event) for event in events]:
        handle.wait(timeout=30)
producer = Producer({{"bootstrap.servers": bootstrap}})
producer.produce("{topic}", b"not an event", b"p-2", headers=[("trace-id", b"t-1")])
producer.flush(30)
print(json.dumps({{e.AVRO_NAME: str(e.event_id) for e in events}}))
"""


def write_user_project(venv: Venv, root: Path, topic: str, service: str) -> Path:
    """`conveyor init root --name service`, then: its topic renamed `topic` (a fresh one on the
    shared broker), a second event on it, the models generated, a recording service, the
    publishing script."""
    venv.conveyor("init", str(root), "--name", service, cwd=root.parent)
    package = service.replace("-", "_")
    (root / "schemas" / package / "OrderRecorded.v1.avsc").write_text(
        json.dumps({**ORDER_RECORDED, "namespace": package}, indent=2)
    )
    topology = root / "schemas" / "topics.yaml"
    document = yaml.safe_load(topology.read_text())
    declared = document["topics"].pop("greetings")
    declared["events"].append(f"{package}.OrderRecorded")
    document["topics"][topic] = declared
    document["services"][service]["consumes"] = [topic]
    topology.write_text(yaml.safe_dump(document, sort_keys=False))
    venv.conveyor("schemas", "generate", cwd=root)
    (root / package / "recorder.py").write_text(SERVICE.format(service=service, package=package))
    (root / "publish.py").write_text(PUBLISH.format(topic=topic, package=package))
    return root
