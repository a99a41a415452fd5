"""Service settings come from the environment once; `conveyor run` resolves service packages."""

from __future__ import annotations

import gc
import json
import subprocess
import sys

import pytest

from conveyor.cli.run import resolve_service
from conveyor.runtime import Context, GroupProtocol, Service, ServiceSettings
from conveyor.runtime.errors import RuntimeConfigError, ServiceNotFoundError
from conveyor.runtime.gc_tuning import tune_for_streaming
from conveyor.runtime.settings import consumer_config
from conveyor.runtime.switching import interval_for, set_switch_interval
from shop_events import OrderPlaced, UserSignedUp


def test_defaults_use_the_kip_848_protocol_and_never_auto_store_or_auto_commit() -> None:
    config = consumer_config("welcome-email", "k:9092", ServiceSettings.from_env({}))
    assert config["group.protocol"] == "consumer"
    assert config["group.id"] == "welcome-email"
    assert config["enable.auto.offset.store"] is False
    assert config["enable.auto.commit"] is False
    assert "partition.assignment.strategy" not in config
    assert "group.instance.id" not in config


def test_classic_protocol_uses_cooperative_sticky_and_static_membership_from_env() -> None:
    settings = ServiceSettings.from_env(
        {
            "CONVEYOR_GROUP_PROTOCOL": "classic",
            "CONVEYOR_GROUP_INSTANCE_ID": "pod-3",
            "CONVEYOR_MAX_IN_FLIGHT": "16",
            "CONVEYOR_COMMIT_INTERVAL_MS": "250",
            "CONVEYOR_HTTP_PORT": "off",
            "CONVEYOR_TOPIC_MAP": "user.signup=t1, order.events=t2",
        }
    )
    assert settings.group_protocol is GroupProtocol.CLASSIC
    assert settings.max_in_flight == 16
    assert settings.commit_interval == 0.25
    assert settings.http_port is None
    assert settings.topic_map == {"user.signup": "t1", "order.events": "t2"}
    config = consumer_config("crm-sync", "k:9092", settings)
    assert config["partition.assignment.strategy"] == "cooperative-sticky"
    assert config["group.instance.id"] == "pod-3"


@pytest.mark.parametrize(
    "env",
    [
        {"CONVEYOR_GROUP_PROTOCOL": "eager"},
        {"CONVEYOR_MAX_IN_FLIGHT": "0"},
        {"CONVEYOR_TOPIC_MAP": "no-equals-sign"},
        {"CONVEYOR_AUTO_OFFSET_RESET": "middle"},
    ],
)
def test_invalid_settings_fail_at_start(env: dict[str, str]) -> None:
    with pytest.raises(RuntimeConfigError):
        ServiceSettings.from_env(env)


def test_run_resolves_dashed_names_to_service_packages() -> None:
    from echo_sink import main

    assert resolve_service("echo-sink") is main


def test_run_names_the_missing_package() -> None:
    with pytest.raises(ServiceNotFoundError, match="expected a package no_such_service"):
        resolve_service("no-such-service")


def test_the_collector_is_tuned_for_streaming_unless_switched_off() -> None:
    """Objects alive at start are frozen out of collection and the young generation grows to
    the configured threshold; 0 leaves the collector alone."""
    assert ServiceSettings.from_env({}).gc_young_threshold == 10_000
    off = ServiceSettings.from_env({"CONVEYOR_GC_YOUNG_THRESHOLD": "0"})
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    try:
        tune_for_streaming(off.gc_young_threshold)
        assert gc.get_threshold() == before
        assert gc.get_freeze_count() == frozen
        tune_for_streaming(25_000)
        assert gc.get_threshold() == (25_000, before[1], before[2])
        assert gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_the_switch_interval_is_shortened_for_sync_handlers_unless_configured() -> None:
    """Threads coming back from C get the GIL within half a millisecond when sync handlers run on
    the pool (see conveyor.runtime.switching); async handlers alone leave the interpreter's
    interval; a configured interval wins, and 0 leaves the interpreter's alone."""
    assert ServiceSettings.from_env({}).switch_interval_ms is None
    service = Service("switching")

    @service.handler(UserSignedUp)
    async def welcome(event: UserSignedUp, ctx: Context) -> None: ...

    async_only = list(service.registrations.values())
    assert interval_for(async_only, None) == 0

    @service.handler(OrderPlaced)
    def charge(event: OrderPlaced, ctx: Context) -> None: ...

    with_sync = list(service.registrations.values())
    assert interval_for(with_sync, None) == 0.5
    configured = ServiceSettings.from_env({"CONVEYOR_SWITCH_INTERVAL_MS": "2"})
    assert interval_for(async_only, configured.switch_interval_ms) == 2
    off = ServiceSettings.from_env({"CONVEYOR_SWITCH_INTERVAL_MS": "0"})
    assert interval_for(with_sync, off.switch_interval_ms) == 0
    before = sys.getswitchinterval()
    try:
        set_switch_interval(0)
        assert sys.getswitchinterval() == before
        set_switch_interval(0.25)
        assert sys.getswitchinterval() == pytest.approx(0.00025)
    finally:
        sys.setswitchinterval(before)
    with pytest.raises(RuntimeConfigError, match="switch_interval_ms"):
        ServiceSettings(switch_interval_ms=-1)


LOGS_PROBE = """
import structlog
from conveyor.log_output import configure_logs_unless_configured, is_debug_enabled
if {configured}:
    structlog.configure(processors=[structlog.processors.KeyValueRenderer()])
configure_logs_unless_configured("WARNING")
log = structlog.get_logger()
log.warning("probe.warning")
log.info("probe.info")
print("debug enabled:", is_debug_enabled(log))
"""


@pytest.mark.parametrize("configured", [False, True])
def test_logs_are_json_at_the_service_level_unless_the_application_configured_them(
    configured: bool,
) -> None:
    """`run_service` starts with this: a process without a logging set-up of its own logs JSON
    at the service's level (not structlog's default, every level); one of its own is kept."""
    probe = LOGS_PROBE.format(configured=configured)
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    if configured:  # the application's own: key=value lines, every level
        assert "event='probe.warning'" in done.stdout
        assert "event='probe.info'" in done.stdout
        assert "debug enabled: True" in done.stdout
    else:
        lines = [json.loads(line) for line in done.stderr.splitlines()]
        assert [line["event"] for line in lines] == ["probe.warning"]
        assert "debug enabled: False" in done.stdout
