"""How the gateway is served: one process, one event loop, two listening sockets.

The public API port serves only the HTTP contract; the admin port (loopback unless told
otherwise) serves `/livez`, `/readyz` and `/metrics` to the kubelet and Prometheus, so neither
the probes nor the metrics are reachable by the API's clients. Both run on the same event loop
(uvloop where installed) in one process: see the README for why one. HTTP is uvicorn's
httptools protocol, writing each response to the socket once (`gateway.protocol`).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Iterator
from typing import Literal

import uvicorn
from starlette.types import ASGIApp

from gateway.protocol import OneWritePerResponse

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def server_config(
    app: ASGIApp, host: str, port: int, *, lifespan: Literal["on", "off"] = "on"
) -> uvicorn.Config:
    """The server settings the gateway and its benchmark floor share."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan=lifespan,
        access_log=False,  # the metrics count requests; a log line each costs the loop
        log_level="warning",
        backlog=2048,
        http=OneWritePerResponse,
    )


class _Server(uvicorn.Server):
    """uvicorn's server without its own signal handling: `serve` handles SIGINT/SIGTERM for
    both sockets, and ends with a return code instead of raising the signal again."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _serve_all(servers: list[tuple[_Server, list[socket.socket] | None]]) -> None:
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for server, _ in servers:
            server.should_exit = True

    for sig in _STOP_SIGNALS:
        loop.add_signal_handler(sig, stop)
    try:
        await asyncio.gather(*(server.serve(sockets) for server, sockets in servers))
    finally:
        for sig in _STOP_SIGNALS:
            loop.remove_signal_handler(sig)


def serve(
    app: ASGIApp,
    host: str,
    port: int,
    admin: uvicorn.Config | None = None,
    sock: socket.socket | None = None,
) -> None:
    """Serve `app` on host:port, or on `sock` when given (bound already), and `admin` beside
    it, until SIGINT or SIGTERM."""
    configs = [server_config(app, host, port), *([admin] if admin else [])]
    servers = [_Server(config) for config in configs]
    sockets = [[sock] if sock is not None else None] + [None] * (len(servers) - 1)
    with asyncio.Runner(loop_factory=configs[0].get_loop_factory()) as runner:
        runner.run(_serve_all(list(zip(servers, sockets, strict=True))))
