"""Where a process's log lines go and how they look; the names are in `conveyor.logs`.

Every process logs to stderr, never stdout: a service writes one JSON object per line (what log
shippers parse), the `conveyor` command readable lines (stdout holds its tables and the JSON
that scripts read).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Any

import structlog


def is_debug_enabled(logger: Any) -> bool:
    """Whether debug events would be emitted, so hot paths can skip building their fields."""
    check = getattr(logger.bind(), "is_enabled_for", None)
    return bool(check(logging.DEBUG)) if callable(check) else True


def configure_logs_unless_configured(level: str) -> None:
    """`configure_json_logs(level)` unless the application has configured structlog itself.
    `run_service` calls it, so a service started without `serve` or a `main` of its own still
    logs JSON at its `CONVEYOR_LOG_LEVEL`, rather than structlog's default (every level,
    debug included: a line per handled event)."""
    if not structlog.is_configured():
        configure_json_logs(level)


def configure_json_logs(level: str = "INFO") -> None:
    """One JSON object per line on stderr; called once by a service's `main`."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=_filtering(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


def configure_cli_logs(level: str = "INFO") -> None:
    """Readable lines on stderr for the `conveyor` command, so its stdout stays its output."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.StackInfoRenderer(),
            structlog.dev.set_exc_info,
            structlog.processors.TimeStamper(fmt="%Y-%m-%d %H:%M:%S", utc=False),
            structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty()),
        ],
        wrapper_class=_filtering(level),
        logger_factory=lambda *args: _Stderr(),
        cache_logger_on_first_use=True,
    )


def _filtering(level: str) -> type[Any]:
    return structlog.make_filtering_bound_logger(logging.getLevelName(level.upper()))


CONSUMER_ERROR_INTERVAL = 10.0  # seconds between two `consumer.error` lines of one kind


class Repeats:
    """Thins out a line that repeats while something stays broken (a consumer error per poll
    during an outage): per kind, the first goes out at once, then at most one per `interval`
    seconds, carrying how many of that kind were held back since the last one out."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = interval
        self._clock = clock
        self._next: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def admit(self, kind: str) -> int | None:
        """None: hold this one back. Otherwise log it now, with the returned number of lines of
        this kind held back since the last one that went out."""
        now = self._clock()
        if now < self._next.get(kind, now):
            self._held[kind] = self._held.get(kind, 0) + 1
            return None
        self._next[kind] = now + self._interval
        return self._held.pop(kind, 0)


class _Stderr:
    """Writes each rendered line to the current `sys.stderr` (looked up per line, as tests and
    the CLI runner swap it)."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    debug = info = warning = error = critical = exception = msg


# The operations' audit trail (replays, redrives, the console's actions): on stderr whatever the
# process configured, through its processors, so a command's stdout stays its own output.
ops_log: Any = structlog.wrap_logger(_Stderr(), logger_name="conveyor.ops")
