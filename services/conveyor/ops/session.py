"""What every operations command starts with: a checked broker and the service's topology."""

from __future__ import annotations

from collections.abc import Mapping

from conveyor.ops.broker import Broker
from conveyor.ops.topology import ServiceTopology, known_services, resolve
from conveyor.settings import Settings


def open_broker(settings: Settings, timeout: float) -> Broker:
    """The broker `settings` name, checked to answer within `timeout`."""
    return Broker.connect(settings.bootstrap_servers, timeout)


def declared_services(settings: Settings) -> Mapping[str, ServiceTopology]:
    """Services declared in the topology; none until `schemas/topics.yaml` is available."""
    del settings
    return {}


def service_topology(broker: Broker, settings: Settings, service: str) -> ServiceTopology:
    return resolve(broker, service, declared_services(settings))


def all_services(broker: Broker, settings: Settings) -> list[ServiceTopology]:
    declared = declared_services(settings)
    return [resolve(broker, name, declared) for name in known_services(broker, declared)]
