"""What the console looks at: one broker, the services it was started for, and the codec that
decodes their events. The one place that turns a service name into its topics."""

from __future__ import annotations

from conveyor.ops.broker import Broker
from conveyor.ops.errors import UnknownServiceError
from conveyor.ops.session import all_services, service_topology
from conveyor.ops.topology import ServiceTopology
from conveyor.typing import Codec


class Scope:
    """The services `names` (all of them, declared or discovered, when empty) on `broker`."""

    def __init__(self, broker: Broker, names: tuple[str, ...], codec: Codec) -> None:
        self.broker = broker
        self.names = names
        self.codec = codec

    def topologies(self) -> list[ServiceTopology]:
        if self.names:
            return [service_topology(self.broker, name) for name in self.names]
        return all_services(self.broker)

    def topology(self, service: str) -> ServiceTopology:
        """The topics of `service`, which must be one the console shows."""
        if self.names and service not in self.names:
            raise UnknownServiceError(service, self.names)
        return service_topology(self.broker, service)
