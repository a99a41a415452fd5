"""Starting, stopping and inspecting local Kafka nodes, one `java` process each.

Everything a cluster needs lives in its home directory: a `cluster.json` with the spec, the cluster
id and each node's pid, and per node its config, data and log. Processes are found again by the pids
recorded there (checked against their command line), never by name.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from conveyor.errors import LauncherError, NodeNotReadyError, PortInUseError
from conveyor.localkafka.config import HOST, ClusterSpec, new_cluster_id, render_properties
from conveyor.localkafka.distribution import KafkaDistribution
from conveyor.localkafka.probe import broker_ids, tcp_answers
from conveyor.localkafka.security import LocalSecurity

_JVM_FLAGS = ["-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true"]
_STATE = "cluster.json"


@dataclass(frozen=True)
class NodeStatus:
    node_id: int
    pid: int | None
    port: int
    controller_port: int
    running: bool
    answers: bool


class NodeHandle:
    """One node of a local cluster, for fault tests: stop, kill, pause, resume, restart."""

    def __init__(self, cluster: LocalKafka, node_id: int) -> None:
        self._cluster = cluster
        self.node_id = node_id

    @property
    def port(self) -> int:
        return self._cluster.spec.client_port(self.node_id)

    @property
    def pid(self) -> int | None:
        return self._cluster.pids.get(self.node_id)

    def kill(self) -> None:
        """SIGKILL: the broker dies without closing anything, as in a crash."""
        self._cluster.signal_node(self.node_id, signal.SIGKILL)
        self._cluster.wait_exit(self.node_id, timeout=10)

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM and wait for a controlled shutdown; SIGKILL after `timeout`."""
        self._cluster.stop_node(self.node_id, timeout)

    def pause(self) -> None:
        """SIGSTOP: the process stays but answers nothing, like a long GC pause or a partition."""
        self._cluster.signal_node(self.node_id, signal.SIGSTOP)

    def resume(self) -> None:
        self._cluster.signal_node(self.node_id, signal.SIGCONT)

    def restart(self, timeout: float = 60) -> None:
        self._cluster.stop_node(self.node_id, timeout=30)
        self._cluster.start_node(self.node_id)
        self._cluster.wait_node_ready(self.node_id, timeout)


class LocalKafka:
    """A local KRaft cluster of 1 or 3 combined broker+controller nodes under `home`."""

    def __init__(self, home: Path, distribution: KafkaDistribution, spec: ClusterSpec) -> None:
        self.home = home
        self.distribution = distribution
        self.spec = spec
        self.pids: dict[int, int] = {}
        self.cluster_id = ""
        self._state_lock = threading.Lock()  # nodes stop in parallel threads, each saving state

    @classmethod
    def load(cls, home: Path, distribution: KafkaDistribution) -> LocalKafka | None:
        """The cluster recorded under `home`, or None when nothing was ever started there."""
        state_file = home / _STATE
        if not state_file.exists():
            return None
        state = json.loads(state_file.read_text())
        cluster = cls(home, distribution, ClusterSpec(**state["spec"]))
        cluster.cluster_id = state["cluster_id"]
        cluster.pids = {int(k): v for k, v in state["pids"].items()}
        return cluster

    @property
    def bootstrap_servers(self) -> str:
        return self.spec.bootstrap_servers

    @property
    def security(self) -> LocalSecurity | None:
        """The TLS material and admin secret of a secured cluster (None when plaintext)."""
        return LocalSecurity(self.home) if self.spec.secure else None

    def client_settings(self) -> dict[str, str]:
        """librdkafka settings to reach the client listener: the admin's when secured."""
        return self.security.admin_client_settings() if self.security else {}

    def node(self, node_id: int) -> NodeHandle:
        if node_id not in self.spec.node_ids():
            raise LauncherError(f"no node {node_id}; this cluster has {self.spec.nodes}")
        return NodeHandle(self, node_id)

    def up(self, timeout: float = 90) -> str:
        """Start every node not already running, wait until the cluster answers; bootstrap."""
        to_start = [n for n in self.spec.node_ids() if not self.is_running(n)]
        if to_start:
            self._check_ports_free(to_start)
            classpath = self.distribution.classpath()
            if not self.cluster_id:
                self.cluster_id = new_cluster_id()
            if self.security:
                self.security.prepare()
            with ThreadPoolExecutor(max_workers=len(to_start)) as pool:
                list(pool.map(lambda n: self._prepare_node(n, classpath), to_start))
            for node_id in to_start:
                self.start_node(node_id)
        self.wait_ready(timeout)
        return self.bootstrap_servers

    def down(self, wipe: bool = False, timeout: float = 30) -> None:
        with ThreadPoolExecutor(max_workers=self.spec.nodes) as pool:
            list(pool.map(lambda n: self.stop_node(n, timeout), self.spec.node_ids()))
        if wipe:
            for node_id in self.spec.node_ids():
                shutil.rmtree(self._node_dir(node_id), ignore_errors=True)
            if self.security:
                self.security.wipe()
            (self.home / _STATE).unlink(missing_ok=True)

    def status(self) -> list[NodeStatus]:
        return [
            NodeStatus(
                node_id=n,
                pid=self.pids.get(n),
                port=self.spec.client_port(n),
                controller_port=self.spec.controller_port(n),
                running=self.is_running(n),
                answers=tcp_answers(HOST, self.spec.client_port(n)),
            )
            for n in self.spec.node_ids()
        ]

    def is_running(self, node_id: int) -> bool:
        """True when the recorded pid is alive and is this node's broker (not a reused pid)."""
        pid = self.pids.get(node_id)
        if pid is None:
            return False
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        zombie = stat.rsplit(")", 1)[-1].split()[0] == "Z"
        return not zombie and str(self._config_file(node_id)).encode() in cmdline

    def start_node(self, node_id: int) -> None:
        command = [
            self.distribution.java(), f"-Xmx{self.spec.heap}", f"-Xms{self.spec.heap}",
            *_JVM_FLAGS, f"-Dlog4j2.configurationFile={self.distribution.log4j_config}",
            "-cp", self.distribution.classpath(), "kafka.Kafka", str(self._config_file(node_id)),
        ]  # fmt: skip
        with self.log_file(node_id).open("ab") as log:
            process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
        self.pids[node_id] = process.pid
        self._save()
        # Until exec() completes, /proc shows our own command line; wait so is_running is exact.
        deadline = time.monotonic() + 10
        while not self.is_running(node_id) and process.poll() is None:
            if time.monotonic() > deadline:
                raise LauncherError(f"node {node_id} did not start java within 10s")
            time.sleep(0.01)

    def stop_node(self, node_id: int, timeout: float) -> None:
        if not self.is_running(node_id):
            self.pids.pop(node_id, None)
            self._save()
            return
        self.signal_node(node_id, signal.SIGCONT)  # a paused JVM cannot shut down
        self.signal_node(node_id, signal.SIGTERM)
        if not self.wait_exit(node_id, timeout):
            with contextlib.suppress(LauncherError):  # it may exit on its own meanwhile
                self.signal_node(node_id, signal.SIGKILL)
            self.wait_exit(node_id, 10)
        self.pids.pop(node_id, None)
        self._save()

    def signal_node(self, node_id: int, signum: signal.Signals) -> None:
        if not self.is_running(node_id):
            raise LauncherError(f"node {node_id} is not running")
        os.kill(self.pids[node_id], signum)

    def wait_exit(self, node_id: int, timeout: float) -> bool:
        pid = self.pids[node_id]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _reap(pid)
            if not self.is_running(node_id):
                return True
            time.sleep(0.05)
        return False

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for node_id in self.spec.node_ids():
            self.wait_node_ready(node_id, max(deadline - time.monotonic(), 1.0))
        expected = set(self.spec.node_ids())
        while broker_ids(self.bootstrap_servers, 2, self.client_settings()) != expected:
            if time.monotonic() > deadline:
                raise NodeNotReadyError(f"the cluster did not report brokers {sorted(expected)}")
            time.sleep(0.2)

    def wait_node_ready(self, node_id: int, timeout: float) -> None:
        """Wait until a metadata request to this node alone succeeds."""
        address = f"{HOST}:{self.spec.client_port(node_id)}"
        deadline = time.monotonic() + timeout
        while True:
            if not self.is_running(node_id):
                raise NodeNotReadyError(
                    f"node {node_id} exited during start-up.\n{self.log_tail(node_id)}"
                )
            answers = tcp_answers(HOST, self.spec.client_port(node_id))
            if answers and broker_ids(address, 2, self.client_settings()):
                return
            if time.monotonic() > deadline:
                raise NodeNotReadyError(
                    f"node {node_id} ({address}) did not answer within {timeout:.0f}s. "
                    f"Its log is {self.log_file(node_id)}; its last lines:\n"
                    f"{self.log_tail(node_id)}"
                )
            time.sleep(0.2)

    def log_file(self, node_id: int) -> Path:
        """Where node `node_id` writes its log (kept across restarts, gone with a wipe)."""
        return self._node_dir(node_id) / "broker.log"

    def log_tail(self, node_id: int, lines: int = 25) -> str:
        try:
            text = self.log_file(node_id).read_text(errors="replace")
        except OSError:
            return "(no log written)"
        return "\n".join(text.splitlines()[-lines:])

    def _check_ports_free(self, node_ids: list[int]) -> None:
        for node_id in node_ids:
            for port in self.spec.node_ports(node_id):
                if not _port_free(port):
                    raise PortInUseError(
                        f"port {port} on {HOST} is already in use (another Kafka?). Stop what "
                        "holds it, start on other ports with `conveyor kafka up --port N`, or "
                        "use a running broker by setting KAFKA_BOOTSTRAP_SERVERS."
                    )

    def _prepare_node(self, node_id: int, classpath: str) -> None:
        """Write the node's config and format its storage once (kept across restarts)."""
        data = self._node_dir(node_id) / "data"
        data.mkdir(parents=True, exist_ok=True)
        config = self._config_file(node_id)
        properties = self.spec.server_properties(node_id, data)
        if self.security:
            properties |= self.security.server_properties()
        config.write_text(render_properties(properties))
        if (data / "meta.properties").exists():
            return
        command = [
            self.distribution.java(), "-Xmx256m", "-cp", classpath,
            f"-Dlog4j2.configurationFile={self.distribution.log4j_config}",
            "kafka.tools.StorageTool", "format", "-c", str(config),
            f"--cluster-id={self.cluster_id}",  # one form: an id may start with '-'
            *(self.security.format_arguments() if self.security else []),
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise LauncherError(
                f"formatting node {node_id} failed:\n{done.stdout}{done.stderr}".strip()
            )

    def _node_dir(self, node_id: int) -> Path:
        return self.home / f"node-{node_id}"

    def _config_file(self, node_id: int) -> Path:
        return self._node_dir(node_id) / "server.properties"

    def _save(self) -> None:
        with self._state_lock:
            self.home.mkdir(parents=True, exist_ok=True)
            pids = dict(self.pids)  # a copy: other threads pop their node's pid meanwhile
            state = {"spec": asdict(self.spec), "cluster_id": self.cluster_id, "pids": pids}
            tmp = self.home / f"{_STATE}.tmp"
            tmp.write_text(json.dumps(state, indent=2))
            tmp.replace(self.home / _STATE)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the broker binds: a port left in TIME_WAIT by a killed node is free to reuse.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def _reap(pid: int) -> None:
    """Collect our own exited child so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
