"""The demo's live table: figures scraped from /metrics, counters kept across a restart."""

from __future__ import annotations

import httpx
from prometheus_client import generate_latest

from conveyor.runtime.metrics import RuntimeMetrics
from demo.monitor import Monitor


def metrics_text(processed: int) -> str:
    """What a payments process serves on /metrics after `processed` OrderPlaced and one
    OrderPaid, with lag 3 and 4 on two partitions."""
    metrics = RuntimeMetrics("payments")
    metrics.for_event_type("OrderPlaced").processed.inc(processed)
    metrics.for_event_type("OrderPaid").processed.inc()
    metrics.lag.labels("payments", "order.events", "0").set(3)
    metrics.lag.labels("payments", "order.events", "1").set(4)
    return generate_latest(metrics.registry).decode()


class Processes:
    def restarts(self, name: str) -> int:
        return 0

    def pid(self, name: str) -> int:
        return 1


def scrape(monitor: Monitor, processed: int) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=metrics_text(processed))

    with httpx.Client(transport=httpx.MockTransport(answer)) as http:
        monitor._scrape(http, "payments", "http://payments/metrics", interval=1.0)


def test_counters_add_up_across_series_and_survive_a_restart() -> None:
    """Series are summed; when a restarted process counts from zero again, what the killed one
    had counted is kept."""
    monitor = Monitor({"payments": "http://payments/metrics"}, Processes())
    scrape(monitor, processed=9)
    row = monitor.rows()["payments"]
    assert (row.total("processed"), row.gauges["lag"]) == (10, 7)
    scrape(monitor, processed=2)  # the new process: 2 + 1
    assert monitor.rows()["payments"].total("processed") == 13


def test_an_unreachable_service_shows_as_down() -> None:
    """A scrape that fails marks the row down instead of failing the table."""
    monitor = Monitor({"payments": "http://payments/metrics"}, Processes())

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    with httpx.Client(transport=httpx.MockTransport(refuse)) as http:
        monitor._scrape(http, "payments", "http://payments/metrics", interval=1.0)
    assert monitor.rows()["payments"].up is False
    assert "down" in str(monitor.table().columns[1]._cells)
