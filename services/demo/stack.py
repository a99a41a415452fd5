"""Starting the pipeline of a demo run: broker, topology, SMTP sink, stand-in APIs, gateway and
the seven services, each a separate OS process on loopback, with its own port and log file."""

from __future__ import annotations

import contextlib
import socket
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from conveyor.localkafka import CONTROLLER_PORT_OFFSET, ClusterSpec, KafkaDistribution, LocalKafka
from conveyor.settings import Settings
from demo.errors import DemoError
from demo.options import SERVICES, DemoOptions
from demo.plan import DECLINE_DIGITS, initial_stock
from demo.processes import CONVEYOR, ProcessGroup, Spec, http_ready, tcp_ready

HOST = "127.0.0.1"
STANDINS = {"crm": "crm", "payment-gateway": "payments", "warehouse": "warehouse"}


@dataclass(frozen=True)
class Endpoints:
    bootstrap_servers: str
    gateway: str
    gateway_admin: str  # probes and metrics
    standins: dict[str, str]  # process name -> base URL
    smtp_port: int
    mail_dir: Path
    state_dir: Path
    metrics: dict[str, str]  # service -> its /metrics URL


class Stack:
    """Owns every process it starts; `down()` stops them all, whatever state `up()` reached."""

    def __init__(
        self,
        settings: Settings,
        options: DemoOptions,
        workdir: Path,
        base_env: Mapping[str, str],
        say: Callable[[str], None],
    ) -> None:
        self._settings = settings
        self._options = options
        self._workdir = workdir
        self._base_env = base_env
        self._say = say
        self.processes = ProcessGroup(workdir / "logs", base_env)
        self._kafka: LocalKafka | None = None

    def up(self) -> Endpoints:
        bootstrap = self._options.bootstrap_servers or self._start_kafka()
        self._say("applying the topic topology (conveyor topics apply)")
        self._apply_topology(bootstrap)
        ports = iter(free_ports(3 + len(STANDINS) + len(SERVICES)))
        endpoints = Endpoints(
            bootstrap_servers=bootstrap,
            gateway=f"http://{HOST}:{next(ports)}",
            gateway_admin=f"http://{HOST}:{next(ports)}",
            standins={name: f"http://{HOST}:{next(ports)}" for name in STANDINS},
            smtp_port=next(ports),
            mail_dir=self._workdir / "mail",
            state_dir=self._workdir / "state",
            metrics={name: f"http://{HOST}:{next(ports)}/metrics" for name in SERVICES},
        )
        self._say("starting the SMTP sink, the stand-in APIs and the gateway")
        self._start_edges(endpoints)
        self._say(f"starting {len(SERVICES)} services, one process each")
        for name in SERVICES:
            self.processes.start(self.service_spec(name, endpoints))
        self.processes.wait_ready(list(SERVICES), timeout=90)
        return endpoints

    def down(self) -> None:
        self.processes.stop_all(report=self._say)
        if self._kafka is not None:
            self._say("stopping the demo's broker")
            self._kafka.down(wipe=True)

    def service_spec(self, name: str, endpoints: Endpoints) -> Spec:
        port = endpoints.metrics[name].rsplit(":", 1)[1].split("/")[0]
        stock = ",".join(f"{sku}={n}" for sku, n in initial_stock().items())
        env = {
            **self._common_env(endpoints),
            "CONVEYOR_HTTP_PORT": port,
            # Static membership: the restarted process takes its partitions straight back.
            "CONVEYOR_GROUP_PROTOCOL": "classic",
            "CONVEYOR_GROUP_INSTANCE_ID": f"{name}-demo-0",
            "CONVEYOR_SESSION_TIMEOUT_MS": "10000",
            "CONVEYOR_SHUTDOWN_DEADLINE_S": "5",
            "SMTP_HOST": HOST,
            "SMTP_PORT": str(endpoints.smtp_port),
            "CRM_URL": endpoints.standins["crm"],
            "PAYMENTS_URL": endpoints.standins["payment-gateway"],
            "WAREHOUSE_URL": endpoints.standins["warehouse"],
            "INVENTORY_STOCK": stock,
        }
        ready = http_ready(endpoints.metrics[name].replace("/metrics", "/readyz"))
        return Spec(name, [*CONVEYOR, "run", name], env, ready)

    def _common_env(self, endpoints: Endpoints) -> dict[str, str]:
        return {
            "KAFKA_BOOTSTRAP_SERVERS": endpoints.bootstrap_servers,
            "CONVEYOR_STATE_DIR": str(endpoints.state_dir),
        }

    def _start_edges(self, endpoints: Endpoints) -> None:
        env = self._common_env(endpoints)
        sink = Spec(
            "smtp-sink",
            [
                *CONVEYOR,
                "run",
                "smtp-sink",
                "--port",
                str(endpoints.smtp_port),
                "--dir",
                str(endpoints.mail_dir),
            ],
            env,
            tcp_ready(HOST, endpoints.smtp_port),
        )
        specs = [sink]
        for name, api in STANDINS.items():
            url = endpoints.standins[name]
            argv = [*CONVEYOR, "run", "standins", api, "--port", url.rsplit(":", 1)[1]]
            argv += ["--latency-ms", "5", "--decline-amounts-ending-in", str(DECLINE_DIGITS)]
            if name == "crm":
                argv += ["--failure-rate", str(self._options.crm_failure_rate)]
                argv += ["--failures-for-seconds", str(self._options.crm_flaky_seconds)]
            specs.append(Spec(name, argv, env, http_ready(f"{url}/healthz")))
        gateway_port = endpoints.gateway.rsplit(":", 1)[1]
        admin_port = endpoints.gateway_admin.rsplit(":", 1)[1]
        specs.append(
            Spec(
                "gateway",
                [
                    *CONVEYOR,
                    "run",
                    "gateway",
                    "--host",
                    HOST,
                    "--port",
                    gateway_port,
                    "--admin-port",
                    admin_port,
                ],
                env,
                http_ready(f"{endpoints.gateway_admin}/readyz"),
            )
        )
        for spec in specs:
            self.processes.start(spec)
        self.processes.wait_ready([spec.name for spec in specs], timeout=60)

    def _start_kafka(self) -> str:
        self._say("starting a local Kafka broker for this run (KAFKA_BOOTSTRAP_SERVERS unset)")
        distribution = KafkaDistribution(
            cache_dir=self._settings.cache_dir, java_home=self._settings.java_home
        )
        spec = ClusterSpec(nodes=1, port=_free_client_port())
        self._kafka = LocalKafka(self._workdir / "kafka", distribution, spec)
        return self._kafka.up(timeout=120)

    def _apply_topology(self, bootstrap: str) -> None:
        result = subprocess.run(
            [*CONVEYOR, "topics", "apply"],
            env={**self._base_env, "KAFKA_BOOTSTRAP_SERVERS": bootstrap},
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise DemoError(f"conveyor topics apply failed:\n{result.stdout}{result.stderr}")


def free_ports(count: int) -> list[int]:
    """`count` distinct free ports (all bound at once, so none is handed out twice)."""
    with contextlib.ExitStack() as stack:
        probes = [stack.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind((HOST, 0))
        return [int(probe.getsockname()[1]) for probe in probes]


def _free_client_port() -> int:
    """A client port whose controller port (client + offset) is free too."""
    for _ in range(100):
        [port] = free_ports(1)
        if port + CONTROLLER_PORT_OFFSET < 65536 and _bindable(port + CONTROLLER_PORT_OFFSET):
            return port
    raise DemoError("found no free pair of ports for the demo's broker")


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
        return True
