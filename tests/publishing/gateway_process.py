"""The gateway as its own process on a free loopback port, as `conveyor run gateway` starts it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from tests.conftest import bindable

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def free_ports(count: int, avoid: int) -> int:
    """The first of `count` consecutive free ports, none of them `avoid`: `--workers N` serves
    worker i's probes on the admin port + i."""
    while True:
        base = free_port()
        ports = range(base, base + count)
        if avoid not in ports and all(bindable(port) for port in ports[1:]):
            return base


class GatewayProcess:
    """`python -m gateway` with its output in a file, stopped with SIGTERM; the API at `url`,
    the probes and metrics at `admin_url`."""

    def __init__(
        self,
        bootstrap: str,
        database: str,
        topics: dict[str, str],
        log: Path,
        extra: Sequence[str] = (),
    ) -> None:
        self.port = free_port()
        self.admin_port = free_ports(2, avoid=self.port)
        self.url = f"http://127.0.0.1:{self.port}"
        self.admin_url = f"http://127.0.0.1:{self.admin_port}"
        self.log = log
        args = [sys.executable, "-m", "gateway", "--port", str(self.port), "--database", database]
        args += ["--admin-port", str(self.admin_port), *extra]
        for declared, actual in topics.items():
            args += ["--topic", f"{declared}={actual}"]
        env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "PYTHONPATH": str(REPO)}
        with log.open("wb") as out:
            self.process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)

    def wait_live(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gateway exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.admin_url}/livez", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise TimeoutError("gateway did not answer /livez")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(60)
