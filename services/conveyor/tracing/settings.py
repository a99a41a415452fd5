"""Whether and how a process traces, read once from the standard `OTEL_*` variables.

Tracing is on only when asked for (`TracingVariables`): an exporter is named, or an OTLP
endpoint is set; `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` keep it off. The rest
(`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`, `OTEL_EXPORTER_OTLP_*`,
`OTEL_BSP_*`) is read by the OpenTelemetry SDK itself, as its documentation says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from pydantic import field_validator

from conveyor import logs
from conveyor.environment import EnvModel, variable
from conveyor.tracing.seam import NO_TRACING, Tracing, install

log = structlog.get_logger("conveyor.tracing")


@dataclass(frozen=True)
class TracingSettings:
    """`exporter` is None when tracing is off."""

    exporter: str | None = None

    @property
    def enabled(self) -> bool:
        return self.exporter is not None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TracingSettings:
        return cls(exporter=TracingVariables.from_env(env).exporter())


class TracingVariables(EnvModel):
    """The `OTEL_*` variables that decide whether a process traces."""

    sdk_disabled: bool = variable(
        "OTEL_SDK_DISABLED",
        False,
        sets="exporter",
        given={"OTEL_TRACES_EXPORTER": "console"},
        description="`true` keeps tracing off whatever else is set.",
        example="true",
    )
    traces_exporter: str | None = variable(
        "OTEL_TRACES_EXPORTER",
        None,
        sets="exporter",
        description="`otlp` or `console` turns tracing on (the first of a list); `none` keeps "
        "it off.",
        example="console",
    )
    otlp_endpoint: str | None = variable(
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        None,
        sets="exporter",
        description="An OTLP collector (`http://collector:4318`): turns tracing on, exporting "
        "there.",
        example="http://collector:4318",
    )
    otlp_traces_endpoint: str | None = variable(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        None,
        sets="exporter",
        description="The same, for traces only.",
        example="http://collector:4318/v1/traces",
    )

    @field_validator("sdk_disabled", mode="before")
    @classmethod
    def _only_true_disables(cls, value: Any) -> Any:
        return value.strip().lower() == "true" if isinstance(value, str) else value

    def exporter(self) -> str | None:
        """The exporter to use, None when tracing is off."""
        named = (self.traces_exporter or "").strip().lower()
        if self.sdk_disabled or named == "none":
            return None
        if named:
            return named.split(",")[0].strip()
        return "otlp" if self.otlp_endpoint or self.otlp_traces_endpoint else None


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
            logs.TRACING_UNAVAILABLE,
            reason=str(error),
            fix="pip install 'conveyor[otel]'",
        )
        install(NO_TRACING)
        return NO_TRACING
    tracing = exporting_tracing(settings.exporter or "otlp", service_name)
    install(tracing)
    log.info(logs.TRACING_ENABLED, service=service_name, exporter=settings.exporter)
    return tracing
