"""librdkafka's own log lines, handed to structlog: one JSON stream per process, no raw lines.

Every Kafka client conveyor creates gets its configuration through `with_logs`, which also lays
the process's connection settings (`clients.connection`: security protocol, SASL, TLS) under the
client's own. confluent-kafka
then queues librdkafka's lines (instead of printing them to stderr from librdkafka's threads)
and passes them to a `logging.Logger` whenever the client is polled. Consumers and producers
are polled anyway; an admin client is not, so `admin_client` has a shared daemon thread poll it.

Each line becomes the event `kafka.log`, its level mapped from syslog's (3 error, 4 warning,
5-6 info, 7 debug), with `client` (librdkafka's client name), `facility` (e.g. `FAIL`), `broker`
(when a broker's thread logged it) and `message`.
"""

from __future__ import annotations

import logging
import re
import threading
import weakref
from typing import Any, Final

import structlog
from confluent_kafka.admin import AdminClient

from conveyor import logs
from conveyor.clients.connection import connection_settings

ADMIN_POLL_INTERVAL: Final = 0.5  # seconds; how late an admin client's lines may show

# Notices about settings conveyor makes on purpose, which librdkafka repeats for every client.
_EXPECTED_NOTICES: Final = ("enable.gapless.guarantee is experimental",)

# confluent-kafka logs `'%s [%s] %s' % (facility, client name, text)`; the text starts with
# librdkafka's thread, which names the broker for a broker's own thread.
_THREAD = re.compile(r"^\[thrd:(?P<thread>[^\]]*)\]: (?P<text>.*)$", re.DOTALL)

_BROKER = re.compile(r"^(?P<broker>[\w.\-]+:\d+(?:/\w+)?): (?P<text>.*)$", re.DOTALL)

_log = structlog.get_logger("conveyor.kafka")


class _ToStructlog(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        fields = fields_of(record)
        if fields is not None:
            _log.log(record.levelno, logs.KAFKA_LOG, **fields)


def fields_of(record: logging.LogRecord) -> dict[str, str] | None:
    """The structured fields of one librdkafka line; None for a line to drop."""
    args = record.args
    if isinstance(args, tuple) and len(args) == 3:
        facility, client, text = (str(arg) for arg in args)
    else:
        facility, client, text = "", record.name, record.getMessage()
    if any(notice in text for notice in _EXPECTED_NOTICES):
        return None
    fields = {"client": client, "facility": facility}
    match = _THREAD.match(text)
    if match is not None:
        thread, text = match["thread"], match["text"]
        text = text.removeprefix(f"{thread}: ")
        if "/" in thread:  # a broker's thread: `host:port/node id` or `.../bootstrap`
            fields["broker"] = thread
        elif (named := _BROKER.match(text)) is not None:  # e.g. the group coordinator's
            fields["broker"], text = named["broker"], named["text"]
    fields["message"] = text
    return fields


def _librdkafka_logger() -> logging.Logger:
    logger = logging.getLogger("conveyor.kafka.librdkafka")
    logger.setLevel(logging.DEBUG)  # librdkafka's `log_level` and structlog's filter decide
    logger.propagate = False  # never also through the root logger's handlers
    if not logger.handlers:
        logger.addHandler(_ToStructlog())
    return logger


LIBRDKAFKA_LOGGER: Final = _librdkafka_logger()


def with_logs(config: dict[str, Any]) -> dict[str, Any]:
    """`config` over the process's connection settings, for a Kafka client whose log lines go
    to structlog."""
    return {**connection_settings(), **config, "logger": LIBRDKAFKA_LOGGER}


class _AdminPoller:
    """One daemon thread serving the log queues of every live admin client."""

    def __init__(self) -> None:
        self._clients: weakref.WeakSet[AdminClient] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, admin: AdminClient) -> None:
        with self._lock:
            self._clients.add(admin)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="conveyor-kafka-logs", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        never = threading.Event()
        while not never.wait(ADMIN_POLL_INTERVAL):
            self._poll_all()

    def _poll_all(self) -> None:
        # its own frame: no reference outlives the round to keep a dropped client alive
        with self._lock:
            clients = list(self._clients)
        for admin in clients:
            admin.poll(0)


_ADMIN_POLLER: Final = _AdminPoller()


def admin_client(config: dict[str, Any]) -> AdminClient:
    """An admin client whose log lines go to structlog (see the module's docstring)."""
    admin = AdminClient(with_logs(config))
    _ADMIN_POLLER.add(admin)
    return admin
