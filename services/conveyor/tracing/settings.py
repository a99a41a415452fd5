"""Whether and how a process traces, read once from the standard `OTEL_*` variables.

Tracing is on only when asked for: `OTEL_TRACES_EXPORTER` names an exporter (`otlp`,
`console`), or an OTLP endpoint is set (`OTEL_EXPORTER_OTLP_ENDPOINT`,
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`); `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`
keep it off. The rest (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`,
`OTEL_EXPORTER_OTLP_*`, `OTEL_BSP_*`) is read by the OpenTelemetry SDK itself, as its
documentation says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import structlog

from conveyor.tracing.seam import NO_TRACING, Tracing, install

log = structlog.get_logger("conveyor.tracing")

TRACING_ENABLED = "tracing.enabled"
TRACING_UNAVAILABLE = "tracing.unavailable"

_ENDPOINTS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


@dataclass(frozen=True)
class TracingSettings:
    """`exporter` is None when tracing is off."""

    exporter: str | None = None

    @property
    def enabled(self) -> bool:
        return self.exporter is not None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TracingSettings:
        if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
            return cls()
        named = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
        if named == "none":
            return cls()
        if named:
            return cls(exporter=named.split(",")[0].strip())
        if any(env.get(name) for name in _ENDPOINTS):
            return cls(exporter="otlp")
        return cls()


def configure_tracing(settings: TracingSettings, service_name: str) -> Tracing:
    """Install the process's tracing (off unless `settings` turn it on) and return it; call
    `close()` on it at the end of `main`. Without `conveyor[otel]` installed, tracing stays off
    and the reason is logged: a service's work never depends on its traces."""
    if not settings.enabled:
        install(NO_TRACING)
        return NO_TRACING
    try:
        from conveyor.tracing.otel import exporting_tracing
    except ImportError as error:
        log.warning(
            TRACING_UNAVAILABLE,
            reason=str(error),
            fix="pip install 'conveyor[otel]'",
        )
        install(NO_TRACING)
        return NO_TRACING
    tracing = exporting_tracing(settings.exporter or "otlp", service_name)
    install(tracing)
    log.info(TRACING_ENABLED, service=service_name, exporter=settings.exporter)
    return tracing
