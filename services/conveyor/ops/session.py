"""What every operations command starts with: a checked broker and the service's topology."""

from __future__ import annotations

from pathlib import Path

from conveyor.ops.broker import Broker
from conveyor.ops.topology import ServiceTopology, known_services, resolve
from conveyor.settings import Settings
from conveyor.topology import DEFAULT_TOPOLOGY_FILE, load


def open_broker(settings: Settings, timeout: float) -> Broker:
    """The broker `settings` name, checked to answer within `timeout`."""
    return Broker.connect(settings.bootstrap_servers, timeout)


def declared_services(path: Path = DEFAULT_TOPOLOGY_FILE) -> dict[str, ServiceTopology]:
    """The services `schemas/topics.yaml` declares; none where the file is not there (an
    installed package without the repository), so the commands discover services instead."""
    if not path.exists():
        return {}
    return {
        spec.name: ServiceTopology(
            service=spec.name,
            inputs=spec.consumes,
            retry_topics=spec.retry_topics,
            dead_letter_topic=spec.dead_letter_topic,
            parked_topic=spec.parked_topic,
        )
        for spec in load(path).services
    }


def service_topology(broker: Broker, service: str) -> ServiceTopology:
    return resolve(broker, service, declared_services())


def all_services(broker: Broker) -> list[ServiceTopology]:
    declared = declared_services()
    return [resolve(broker, name, declared) for name in known_services(broker, declared)]
