"""The `conveyor` command logs to stderr: a warning while a broker is out of reach leaves
`status --json` on stdout pure JSON."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from tests.ops.conftest import Svc

pytestmark = pytest.mark.kafka

CONVEYOR = Path(sys.executable).with_name("conveyor")


def _pump(source: socket.socket, sink: socket.socket) -> None:
    with suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


@contextmanager
def flaky_forwarder(target: str, refusing: float) -> Iterator[str]:
    """A loopback address forwarding each connection to `target` (host:port), except that for
    `refusing` seconds from the first connection it hangs up at once: a broker that is out of
    reach when a command starts and comes back while the command waits for it."""
    host, port = target.rsplit(":", 1)
    stop = threading.Event()
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)

    def serve() -> None:
        first: float | None = None
        while not stop.is_set():
            try:
                client, _ = server.accept()
            except TimeoutError:
                continue
            first = time.monotonic() if first is None else first
            if time.monotonic() - first < refusing:
                client.close()
                continue
            upstream = socket.create_connection((host, int(port)))
            for pair in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=pair, daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        server.close()


def test_status_json_stays_pure_json_while_a_warning_is_logged(
    kafka_bootstrap: str, svc: Svc
) -> None:
    """The broker answers only 3 s after the command first asks: the command logs
    `kafka.unavailable` and `kafka.recovered` on stderr, and its stdout parses as the status
    JSON."""
    svc.topic("dlq")  # what makes the name a service's for `status`

    with flaky_forwarder(kafka_bootstrap, refusing=3.0) as address:
        done = subprocess.run(
            [str(CONVEYOR), "status", svc.name, "--sample", "0", "--json", "--timeout", "30"],
            env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": address},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert done.returncode == 0, done.stderr
    assert "kafka.unavailable" in done.stderr
    assert "kafka.recovered" in done.stderr
    [status] = json.loads(done.stdout)
    assert status["service"] == svc.name
