"""What every operations command starts with: a checked broker and the service's topology."""

from __future__ import annotations

from conveyor.lanes.model import lane_topics
from conveyor.ops.broker import Broker
from conveyor.ops.topology import ServiceTopology, known_services, resolve
from conveyor.project import Project
from conveyor.settings import Settings


def open_broker(settings: Settings, timeout: float) -> Broker:
    """The broker `settings` name, checked to answer within `timeout`."""
    return Broker.connect(settings.bootstrap_servers, timeout)


def declared_services(project: Project) -> dict[str, ServiceTopology]:
    """The services the project's topology declares; none where it has no topology file, so
    the commands discover services from the cluster instead."""
    if not project.config.topology.exists():
        return {}
    topology = project.topology()
    lanes = topology.lanes
    services = {}
    for spec in topology.services:
        laned = lane_topics({t: lanes[t] for t in spec.consumes if t in lanes})
        inputs = [t for t in spec.consumes if t not in lanes] + list(laned)
        services[spec.name] = ServiceTopology(
            service=spec.name,
            inputs=tuple(inputs),
            retry_topics=spec.retry_topics,
            dead_letter_topic=spec.dead_letter_topic,
            parked_topic=spec.parked_topic,
            lanes=tuple((topic, f"{lane.base}/{lane.lane}") for topic, lane in laned.items()),
        )
    return services


def service_topology(broker: Broker, service: str, project: Project) -> ServiceTopology:
    return resolve(broker, service, declared_services(project))


def all_services(broker: Broker, project: Project) -> list[ServiceTopology]:
    declared = declared_services(project)
    return [resolve(broker, name, declared) for name in known_services(broker, declared)]
