"""`conveyor run gateway` calls `main(settings, argv)`: parse the flags, serve until signalled."""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading
from collections.abc import Iterator
from types import MappingProxyType

import structlog
import uvicorn

from conveyor.publish import PublisherConfig
from conveyor.runtime import configure_json_logs
from conveyor.settings import Settings
from conveyor.tracing import configure_tracing
from gateway.app import create_app
from gateway.service import Gateway, GatewayConfig

log = structlog.get_logger("gateway")
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="conveyor run gateway", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument(
        "--database",
        help="sqlite:///PATH or postgresql://... (default: a SQLite file in the state dir)",
    )
    parser.add_argument(
        "--delivery-timeout",
        type=float,
        default=30.0,
        help="seconds the relay waits for a broker acknowledgement before retrying",
    )
    parser.add_argument(
        "--topic",
        action="append",
        default=[],
        metavar="DECLARED=ACTUAL",
        help="publish a declared topic under another name (repeatable)",
    )
    return parser


def _topics(pairs: list[str], parser: argparse.ArgumentParser) -> dict[str, str]:
    topics: dict[str, str] = {}
    for pair in pairs:
        declared, sep, actual = pair.partition("=")
        if not sep or not declared or not actual:
            parser.error(f"--topic wants DECLARED=ACTUAL, got {pair!r}")
        topics[declared] = actual
    return topics


def config_from_args(settings: Settings, argv: list[str]) -> tuple[GatewayConfig, str, int]:
    parser = _parser()
    args = parser.parse_args(argv)
    topics = MappingProxyType(_topics(args.topic, parser))
    database = args.database or f"sqlite:///{settings.state_dir / 'gateway' / 'gateway.sqlite3'}"
    publisher = PublisherConfig(
        bootstrap_servers=settings.bootstrap_servers,
        client=settings.client,
        client_id="gateway",
        delivery_timeout=args.delivery_timeout,
        topics=topics,
    )
    config = GatewayConfig(database_url=database, publisher=publisher)
    return config, args.host, args.port


def main(settings: Settings, argv: list[str]) -> int:
    """Serve the gateway on `--host`:`--port` until SIGINT/SIGTERM; returns the exit code."""
    config, host, port = config_from_args(settings, argv)
    configure_json_logs()
    tracing = configure_tracing(settings.tracing, "gateway")
    gateway = Gateway(config, settings.contracts().codec, tracing)
    log.info("gateway.starting", host=host, port=port, database=config.database_url.split(":")[0])
    server = _Server(
        uvicorn.Config(
            create_app(gateway), host=host, port=port, access_log=False, log_level="warning"
        )
    )
    try:
        server.run()
    finally:
        tracing.close()
    log.info("gateway.stopped")
    return 0


class _Server(uvicorn.Server):
    """uvicorn's server, except that SIGINT/SIGTERM end `main` with a return code instead of
    being raised again after the graceful shutdown (which would kill the process)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in _STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
