"""The catalogue of log event names the runtime emits, and the JSON logging set-up for `main`.

Dashboards and alerts match these names; add new ones here rather than inline.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, Final

import structlog

SERVICE_STARTED: Final = "service.started"
SERVICE_STOPPING: Final = "service.stopping"
SERVICE_STOPPED: Final = "service.stopped"
SERVICE_FAILED: Final = "service.failed"
PARTITION_ASSIGNED: Final = "partition.assigned"
PARTITION_REVOKED: Final = "partition.revoked"
PARTITION_LOST: Final = "partition.lost"
PARTITION_PAUSED: Final = "partition.paused"
PARTITION_RESUMED: Final = "partition.resumed"
EVENT_PROCESSED: Final = "event.processed"
EVENT_FAILED: Final = "event.failed"
EVENT_UNDECODABLE: Final = "event.undecodable"
EVENT_SKIPPED: Final = "event.skipped"
EVENT_FATAL: Final = "event.fatal"
BATCH_PROCESSED: Final = "batch.processed"
OFFSETS_COMMITTED: Final = "offsets.committed"
OFFSETS_COMMIT_FAILED: Final = "offsets.commit_failed"
DRAIN_TIMED_OUT: Final = "drain.timed_out"
CONSUMER_ERROR: Final = "consumer.error"
HEALTH_LISTENING: Final = "health.listening"
TRANSACTION_COMMITTED: Final = "transaction.committed"
TRANSACTION_ABORTED: Final = "transaction.aborted"
PARTITION_REWOUND: Final = "partition.rewound"
DELAYED_DELIVERED: Final = "delayed.delivered"
DELAYED_CANCELLED: Final = "delayed.cancelled"
SERVICE_PAUSED: Final = "service.paused"
SERVICE_RESUMED: Final = "service.resumed"
LANES_HELD: Final = "lanes.held"  # debug: the lower lanes held back changed

CATALOGUE: Final = frozenset(
    {
        SERVICE_STARTED,
        SERVICE_STOPPING,
        SERVICE_STOPPED,
        SERVICE_FAILED,
        PARTITION_ASSIGNED,
        PARTITION_REVOKED,
        PARTITION_LOST,
        PARTITION_PAUSED,
        PARTITION_RESUMED,
        EVENT_PROCESSED,
        EVENT_FAILED,
        EVENT_UNDECODABLE,
        EVENT_SKIPPED,
        EVENT_FATAL,
        BATCH_PROCESSED,
        OFFSETS_COMMITTED,
        OFFSETS_COMMIT_FAILED,
        DRAIN_TIMED_OUT,
        CONSUMER_ERROR,
        HEALTH_LISTENING,
        TRANSACTION_COMMITTED,
        TRANSACTION_ABORTED,
        PARTITION_REWOUND,
        DELAYED_DELIVERED,
        DELAYED_CANCELLED,
        SERVICE_PAUSED,
        SERVICE_RESUMED,
        LANES_HELD,
    }
)


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
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
