"""KRaft broker configuration for local nodes: one combined broker+controller per node."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
CONTROLLER_PORT_OFFSET = 100
MTLS_PORT_OFFSET = 200  # a secured cluster's certificate-authenticated (mTLS) listener

# Settings every local node shares. Failure detection is shortened so a killed consumer or broker
# is noticed in seconds, which is what tests and a developer laptop want.
_COMMON = {
    "process.roles": "broker,controller",
    "inter.broker.listener.name": "PLAINTEXT",
    "controller.listener.names": "CONTROLLER",
    "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
    "auto.create.topics.enable": "false",
    "group.initial.rebalance.delay.ms": "0",
    "offsets.topic.num.partitions": "12",
    "group.consumer.min.session.timeout.ms": "2000",
    "group.consumer.session.timeout.ms": "6000",
    "group.consumer.min.heartbeat.interval.ms": "500",
    "group.consumer.heartbeat.interval.ms": "1000",
    "group.min.session.timeout.ms": "2000",
    "num.partitions": "1",
    "log.segment.bytes": "67108864",
}


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (Kafka's Uuid)."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()


@dataclass(frozen=True)
class ClusterSpec:
    """Shape of a local cluster: how many nodes, the first client port, and whether it is secured
    (see `conveyor.localkafka.security` for what that adds)."""

    nodes: int = 1
    port: int = 9092
    heap: str = "512m"
    secure: bool = False

    def __post_init__(self) -> None:
        if self.nodes not in (1, 3):
            raise ValueError(f"a local cluster has 1 or 3 nodes, not {self.nodes}")

    def node_ids(self) -> range:
        return range(1, self.nodes + 1)

    def client_port(self, node_id: int) -> int:
        return self.port + node_id - 1

    def controller_port(self, node_id: int) -> int:
        return self.client_port(node_id) + CONTROLLER_PORT_OFFSET

    def mtls_port(self, node_id: int) -> int:
        return self.client_port(node_id) + MTLS_PORT_OFFSET

    def node_ports(self, node_id: int) -> tuple[int, ...]:
        plain = (self.client_port(node_id), self.controller_port(node_id))
        return (*plain, self.mtls_port(node_id)) if self.secure else plain

    def ports(self) -> list[int]:
        return [p for n in self.node_ids() for p in self.node_ports(n)]

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(f"{HOST}:{self.client_port(n)}" for n in self.node_ids())

    def server_properties(self, node_id: int, log_dir: Path) -> dict[str, str]:
        voters = ",".join(f"{n}@{HOST}:{self.controller_port(n)}" for n in self.node_ids())
        replicas = "3" if self.nodes == 3 else "1"
        min_isr = "2" if self.nodes == 3 else "1"
        return {
            **_COMMON,
            "node.id": str(node_id),
            "controller.quorum.voters": voters,
            **self._listeners(node_id),
            "log.dirs": str(log_dir),
            "default.replication.factor": replicas,
            "min.insync.replicas": min_isr,
            "offsets.topic.replication.factor": replicas,
            "transaction.state.log.replication.factor": replicas,
            "transaction.state.log.min.isr": min_isr,
            "share.coordinator.state.topic.replication.factor": replicas,
            "share.coordinator.state.topic.min.isr": min_isr,
        }

    def _listeners(self, node_id: int) -> dict[str, str]:
        client, controller = self.client_port(node_id), self.controller_port(node_id)
        if not self.secure:
            listeners = f"PLAINTEXT://{HOST}:{client},CONTROLLER://{HOST}:{controller}"
            return {"listeners": listeners, "advertised.listeners": listeners}
        # Clients authenticate with SCRAM over TLS on CLIENT, or with a certificate on MTLS.
        # Brokers and controllers talk over mutual TLS as `User:broker`: nothing on a secured node
        # listens in plaintext, so no local process can bypass authentication.
        listeners = (
            f"CLIENT://{HOST}:{client},MTLS://{HOST}:{self.mtls_port(node_id)},"
            f"CONTROLLER://{HOST}:{controller}"
        )
        return {
            "listeners": listeners,
            "advertised.listeners": listeners,
            "listener.security.protocol.map": "CLIENT:SASL_SSL,MTLS:SSL,CONTROLLER:SSL",
            "inter.broker.listener.name": "MTLS",
        }


def render_properties(values: dict[str, str]) -> str:
    return "".join(f"{key}={value}\n" for key, value in values.items())
