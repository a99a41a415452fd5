"""What the console looks at: one broker, the services it was started for, and the codec that
decodes their events. The one place that turns a service name into its topics."""

from __future__ import annotations

from conveyor.ops.broker import Broker
from conveyor.ops.errors import UnknownServiceError
from conveyor.ops.session import declared_services
from conveyor.ops.topology import ServiceTopology, known_services, resolve
from conveyor.project import Project


class ConsoleScope:
    """The services `names` (all of them, declared or discovered, when empty) on `broker`, as
    `project` declares them, their events decoded with its codec."""

    def __init__(self, broker: Broker, names: tuple[str, ...], project: Project) -> None:
        self.broker = broker
        self.names = names
        self.codec = project.codec
        # Read once: the declared topology is a file; only the broker's side changes.
        self._declared = declared_services(project)

    def topologies(self) -> list[ServiceTopology]:
        names = self.names or known_services(self.broker, self._declared)
        return [resolve(self.broker, name, self._declared) for name in names]

    def topology(self, service: str) -> ServiceTopology:
        """The topics of `service`, which must be one the console shows."""
        if self.names and service not in self.names:
            raise UnknownServiceError(service, self.names)
        return resolve(self.broker, service, self._declared)
