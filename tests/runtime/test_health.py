"""The probe endpoints report liveness, readiness and Prometheus metrics over HTTP."""

from __future__ import annotations

import httpx
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from conveyor.runtime.health import Health, HealthServer
from conveyor.runtime.metrics import RuntimeMetrics


def test_probes_follow_the_poll_loop_and_metrics_are_served() -> None:
    health = Health()
    metrics = RuntimeMetrics("probe-test")
    metrics.for_event_type("conveyor.test.Ping").processed.inc(3)
    server = HealthServer(health, metrics.registry, port=0)
    server.start("probe-test")
    base = f"http://127.0.0.1:{server.port}"
    try:
        assert httpx.get(f"{base}/livez").status_code == 200
        assert httpx.get(f"{base}/readyz").status_code == 503  # not assigned yet
        health.polled(assigned=True)
        assert httpx.get(f"{base}/readyz").status_code == 200
        health.stopping()
        assert httpx.get(f"{base}/readyz").status_code == 503
        body = httpx.get(f"{base}/metrics").text
        labels = 'event_type="conveyor.test.Ping",service="probe-test"'
        assert f"conveyor_events_processed_total{{{labels}}} 3.0" in body
    finally:
        server.stop()


def test_handler_durations_are_exported_as_a_cumulative_histogram() -> None:
    """Durations land in the first bucket whose bound is at least the duration (`le`), buckets
    count cumulatively, and count and sum cover every observation."""
    metrics = RuntimeMetrics("histogram-test")
    durations = metrics.for_event_type("conveyor.test.Ping").duration
    for seconds in (0.0004, 0.001, 0.003, 0.2, 45.0):
        durations.observe(seconds)
    parsed = {
        (sample.name, sample.labels.get("le")): sample.value
        for family in text_string_to_metric_families(generate_latest(metrics.registry).decode())
        if family.name == "conveyor_handler_duration_seconds"
        for sample in family.samples
    }
    name = "conveyor_handler_duration_seconds"
    assert parsed[(f"{name}_bucket", "0.001")] == 2  # 0.0004 and exactly 0.001
    assert parsed[(f"{name}_bucket", "0.005")] == 3
    assert parsed[(f"{name}_bucket", "0.25")] == 4
    assert parsed[(f"{name}_bucket", "30.0")] == 4
    assert parsed[(f"{name}_bucket", "+Inf")] == 5
    assert parsed[(f"{name}_count", None)] == 5
    assert abs(parsed[(f"{name}_sum", None)] - 45.2044) < 1e-9
