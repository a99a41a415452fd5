"""Test doubles and fixtures shared by the service tests: real stand-in APIs on loopback, a
recording mailer and a recording emitter."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import uvicorn

from conveyor.events.base import Event
from integrations.mail import Mail
from standins.apis import StandinConfig, build_app


@contextmanager
def running_standin(config: StandinConfig) -> Iterator[str]:
    """Serve a stand-in API on a free loopback port; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(build_app(config), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)


@dataclass
class RecordingMailer:
    sent: list[tuple[Mail, uuid.UUID, str]] = field(default_factory=list)

    def send(self, mail: Mail, *, event_id: uuid.UUID, kind: str) -> str:
        self.sent.append((mail, event_id, kind))
        return f"<{kind}.{event_id}@test>"


@dataclass
class RecordingEmitter:
    emitted: list[Event] = field(default_factory=list)

    def emit(self, event: Event) -> None:
        self.emitted.append(event)
