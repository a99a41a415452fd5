"""`/livez`, `/readyz` and `/metrics` on a small HTTP port, served from a daemon thread.

Live: the poll loop has run, or a wait for Kafka has tried again, within `stale_after` seconds
(restarting a process that waits out a broker's restart would not help it). Ready: live, has
joined its group (received an assignment, possibly empty), is not shutting down and is not
blocked (an open breaker, a wait for Kafka).
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from conveyor import logs


class Health:
    """What the probes report; updated by the poll loop."""

    def __init__(self, stale_after: float = 30.0) -> None:
        self._stale_after = stale_after
        self._last_poll = time.monotonic()
        self._assigned = False
        self._stopping = False
        self._blocked: dict[str, str] = {}

    def polled(self, *, assigned: bool) -> None:
        self._last_poll = time.monotonic()
        self._assigned = assigned

    def stopping(self) -> None:
        self._stopping = True

    def block(self, name: str, reason: str) -> None:
        """Report not-ready because of `name` (e.g. an open breaker) until `unblock(name)`."""
        self._blocked[name] = reason

    def waiting(self, name: str, reason: str) -> None:
        """Not ready, but alive: the process waits on Kafka (`conveyor.clients.Readiness`)."""
        self._blocked[name] = reason
        self._last_poll = time.monotonic()

    def unblock(self, name: str) -> None:
        self._blocked.pop(name, None)

    @property
    def blocked(self) -> dict[str, str]:
        return dict(self._blocked)

    @property
    def live(self) -> bool:
        return time.monotonic() - self._last_poll < self._stale_after

    @property
    def ready(self) -> bool:
        return self.live and self._assigned and not self._stopping and not self._blocked


class HealthServer:
    """The probe and metrics endpoints of one service process."""

    def __init__(self, health: Health, registry: CollectorRegistry, port: int) -> None:
        handler = _handler_class(health, registry)
        self._server = ThreadingHTTPServer(
            ("0.0.0.0", port), handler
        )  # probes come from outside the pod
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="conveyor-http", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self, service: str) -> None:
        self._thread.start()
        structlog.get_logger("conveyor.runtime").info(
            logs.HEALTH_LISTENING, service=service, port=self.port
        )

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler_class(health: Health, registry: CollectorRegistry) -> type[BaseHTTPRequestHandler]:
    class ProbeHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/livez":
                self._reply(200 if health.live else 503, b"live\n" if health.live else b"stale\n")
            elif self.path == "/readyz":
                if health.ready:
                    self._reply(200, b"ready\n")
                else:  # what blocks it, for the person reading the probe at 3 a.m.
                    blocked = "".join(f"{n}: {r}\n" for n, r in sorted(health.blocked.items()))
                    self._reply(503, f"not ready\n{blocked}".encode())
            elif self.path == "/metrics":
                self._reply(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            else:
                self._reply(404, b"not found\n")

        def _reply(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return  # probes every few seconds would drown the JSON logs

    return ProbeHandler
