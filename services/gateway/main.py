"""`conveyor run gateway` calls `main(settings, argv)`: parse the flags, serve until signalled."""

from __future__ import annotations

import argparse
import os
import socket
from dataclasses import dataclass
from types import MappingProxyType

import structlog

from conveyor.publish import PublisherConfig
from conveyor.runtime import configure_json_logs
from conveyor.runtime.gc_tuning import tune_for_streaming
from conveyor.runtime.settings import ServiceSettings
from conveyor.settings import Settings
from conveyor.tracing import configure_tracing
from gateway import logs
from gateway.admin import create_admin_app
from gateway.app import create_app
from gateway.database import Database
from gateway.server import serve, server_config
from gateway.service import Gateway, GatewayConfig
from gateway.workers import bind, run_workers

log = structlog.get_logger("gateway")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="conveyor run gateway", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="the public API's port")
    parser.add_argument(
        "--admin-host",
        default="127.0.0.1",
        help="where /livez, /readyz and /metrics listen (0.0.0.0 for a kubelet or Prometheus "
        "on another host)",
    )
    parser.add_argument("--admin-port", type=int, default=9400)
    parser.add_argument(
        "--database",
        help="sqlite:///PATH or postgresql://... (default: a SQLite file in the state dir)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="gateway processes serving the API port (PostgreSQL only; SQLite takes one); "
        "worker N serves its probes and metrics on the admin port + N",
    )
    parser.add_argument(
        "--writers",
        type=int,
        default=1,
        help="writer threads per process, each with its own connection (PostgreSQL only; "
        "one sends each group of requests and its commit in one exchange)",
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


@dataclass(frozen=True)
class Listen:
    """Where the gateway serves its API and its admin endpoints."""

    host: str
    port: int
    admin_host: str
    admin_port: int
    workers: int = 1


def config_from_args(settings: Settings, argv: list[str]) -> tuple[GatewayConfig, Listen]:
    parser = _parser()
    args = parser.parse_args(argv)
    topics = MappingProxyType(_topics(args.topic, parser))
    database = args.database or f"sqlite:///{settings.state_dir / 'gateway' / 'gateway.sqlite3'}"
    publisher = PublisherConfig(
        bootstrap_servers=settings.bootstrap_servers,
        client=settings.client,
        client_id="gateway",
        # The relay hands the producer the rows it read as one batch already; lingering for
        # more would only add to the outbox lag.
        linger_ms=1.0,
        delivery_timeout=args.delivery_timeout,
        topics=topics,
        lanes=settings.lanes(),  # priority orders to the high lane, and their cancels
    )
    if args.workers < 1:
        parser.error("--workers wants 1 or more")
    if args.workers > 1 and database.startswith("sqlite:"):
        parser.error(
            "--workers: SQLite takes one writer at a time, so one process; use PostgreSQL for more"
        )
    if args.writers < 1:
        parser.error("--writers wants 1 or more")
    config = GatewayConfig(database_url=database, publisher=publisher, writers=args.writers)
    return config, Listen(args.host, args.port, args.admin_host, args.admin_port, args.workers)


def main(settings: Settings, argv: list[str]) -> int:
    """Serve the gateway until SIGINT/SIGTERM; returns the exit code."""
    config, listen = config_from_args(settings, argv)
    configure_json_logs()
    if listen.workers == 1:
        return _serve(settings, config, listen, 0, None, argv=argv)
    # Once, before the workers race to create the tables.
    Database(config.database_url).create_schema()
    sock = bind(listen.host, listen.port)
    return run_workers(
        listen.workers, lambda worker: _serve(settings, config, listen, worker, sock, argv=argv)
    )


def _serve(
    settings: Settings,
    config: GatewayConfig,
    listen: Listen,
    worker: int,
    sock: socket.socket | None,
    *,
    argv: list[str],
) -> int:
    """One gateway process: its writers, its relay (or a standby one) and its servers;
    `argv` starts its relay's process (PostgreSQL)."""
    tracing = configure_tracing(settings.tracing, "gateway")
    gateway = Gateway(config, settings.contracts().codec, tracing, relay_argv=argv)
    admin_port = listen.admin_port + worker
    log.info(
        logs.GATEWAY_STARTING,
        host=listen.host,
        port=listen.port,
        admin_host=listen.admin_host,
        admin_port=admin_port,
        database=config.database_url.split(":")[0],
        worker=worker,
        workers=listen.workers,
    )
    admin = server_config(create_admin_app(gateway), listen.admin_host, admin_port, lifespan="off")
    app = create_app(gateway)
    # Each request leaves short-lived containers: with the collector's defaults a full
    # collection (every object the process holds, tens of ms) stalls the loop every few seconds
    # at 1,000 requests/s, and collections take a tenth of the CPU.
    tune_for_streaming(ServiceSettings.from_env(os.environ).gc_young_threshold)
    try:
        serve(app, listen.host, listen.port, admin, sock)
    finally:
        tracing.close()
    log.info(logs.GATEWAY_STOPPED, worker=worker)
    return 0
