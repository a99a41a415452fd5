"""The probe endpoints report liveness, readiness and Prometheus metrics over HTTP."""

from __future__ import annotations

import httpx

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
