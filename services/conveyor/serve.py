"""The end of a service's `main`: JSON logs, then the runtime with conveyor's failure policies
(retries, dead letters, parking, rate limits, idempotency) until signalled."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from conveyor.log_output import configure_json_logs
from conveyor.policies import Policies, PolicySettings
from conveyor.runtime import Service, ServiceSettings, run_service
from conveyor.settings import Settings
from conveyor.tracing import configure_tracing


def serve(service: Service, settings: Settings, env: Mapping[str, str]) -> int:
    """Run `service` with the runtime settings `env` holds (`CONVEYOR_*`) and the codec and
    lanes of `settings`' project, traced as `settings.tracing` says; returns the exit code."""
    service_settings = ServiceSettings.from_env(env)
    configure_json_logs(service_settings.log_level)
    tracing = configure_tracing(settings.tracing, service.name)
    policy_settings = replace(PolicySettings.from_env(env), group=service.name)
    policies = Policies(
        settings.bootstrap_servers, policy_settings, topic_map=service_settings.topic_map
    )
    codec = settings.contracts().codec
    try:
        return run_service(
            service,
            settings,
            service_settings,
            codec,
            extension=policies,
            lanes=settings.lanes(),
        )
    finally:
        tracing.close()
