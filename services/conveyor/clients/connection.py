"""The one place a Kafka client's connection settings are made: bootstrap servers and the
process's `ClientConfig` (security protocol, SASL, TLS, the properties file).

The `ClientConfig` is read once, by `Settings.from_env`, and a process's entry point (the CLI,
`run_service`, the gateway, the scheduler) runs `using` it. The previous one is back when the
entry point returns, so a command or service run inside a test process leaves no trace. Every
client conveyor creates passes through `clients.logs.with_logs` or `admin_client`, which lay
`connection_settings` under the client's own; so no client is built from `bootstrap.servers`
alone, and no module between the entry point and the client has to carry the credentials.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from conveyor.clients.config import ClientConfig

PLAINTEXT: Final = ClientConfig()


class _InUse:
    """The process's client configuration; PLAINTEXT until an entry point says otherwise."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._client = PLAINTEXT

    def set(self, client: ClientConfig) -> None:
        with self._lock:
            self._client = client

    def get(self) -> ClientConfig:
        with self._lock:
            return self._client


_IN_USE: Final = _InUse()


@contextmanager
def using(client: ClientConfig) -> Iterator[None]:
    """Connect every client created inside the block as `client` says."""
    previous = _IN_USE.get()
    _IN_USE.set(client)
    try:
        yield
    finally:
        _IN_USE.set(previous)


def in_use() -> ClientConfig:
    """The client configuration the process's entry point chose (PLAINTEXT by default)."""
    return _IN_USE.get()


def connection_settings(
    bootstrap_servers: str | None = None, client: ClientConfig | None = None
) -> dict[str, Any]:
    """The base librdkafka settings of a client: `client` (default: the one in use) and, when
    given, the bootstrap servers. Secrets are revealed: hand the result only to a client."""
    settings: dict[str, Any] = (client or in_use()).librdkafka()
    if bootstrap_servers is not None:
        settings["bootstrap.servers"] = bootstrap_servers
    return settings
