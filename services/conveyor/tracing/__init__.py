"""Tracing: OpenTelemetry spans for publishing, handling, retries, dead letters and redrives,
linked by W3C `traceparent` headers; off (and free) unless the `OTEL_*` settings turn it on.

    tracing = configure_tracing(TracingSettings.from_env(os.environ), "payments")
    ...
    tracing.close()
"""

from conveyor.tracing.seam import (
    CREATE,
    DEAD_LETTER,
    NO_TRACING,
    REDRIVE,
    RETRY,
    SEND,
    Handling,
    NoTracing,
    ServerSpan,
    Tracing,
    install,
    installed,
)
from conveyor.tracing.settings import TracingSettings, configure_tracing

__all__ = [
    "CREATE",
    "DEAD_LETTER",
    "NO_TRACING",
    "REDRIVE",
    "RETRY",
    "SEND",
    "Handling",
    "NoTracing",
    "ServerSpan",
    "Tracing",
    "TracingSettings",
    "configure_tracing",
    "install",
    "installed",
]
