"""Prometheus metrics of one gateway, in its own registry (several apps may share a process)."""

from __future__ import annotations

import asyncio
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5
)  # fmt: skip
_LAG_PROBE_INTERVAL = 0.1


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "gateway_requests",
            "HTTP requests answered, by route and status code.",
            ["route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "gateway_request_seconds",
            "From the server handing a request to the app to the response's last byte handed to "
            "the socket, by route.",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.loop_lag = Histogram(
            "gateway_event_loop_lag_seconds",
            "How late the event loop ran a timer: a stall here delays requests before they "
            "reach the app, where the request histogram cannot see it.",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.events_written = Counter(
            "gateway_events_written",
            "Events committed to the outbox, by event type.",
            ["event_type"],
            registry=self.registry,
        )
        self.outbox_pending = Gauge(
            "conveyor_outbox_pending",
            "Outbox rows written but not yet confirmed by Kafka.",
            registry=self.registry,
        )
        self.outbox_oldest_age = Gauge(
            "conveyor_outbox_oldest_age_seconds",
            "Age of the oldest unconfirmed outbox row (the outbox lag).",
            registry=self.registry,
        )


async def watch_event_loop(metrics: GatewayMetrics) -> None:
    """Observe, until cancelled, how late the loop wakes from a short sleep."""
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + _LAG_PROBE_INTERVAL
        await asyncio.sleep(_LAG_PROBE_INTERVAL)
        metrics.loop_lag.observe(max(0.0, loop.time() - due))


class MetricsMiddleware:
    """Counts and times each HTTP request by route template and status; wraps the whole app,
    so error handling and serialisation count too (plain ASGI: no extra task or stream per
    request, unlike `BaseHTTPMiddleware`)."""

    def __init__(self, app: ASGIApp, metrics: GatewayMetrics) -> None:
        self.app = app
        self.metrics = metrics
        # The labelled series, looked up once each (`labels()` validates and locks every time).
        self._latency: dict[str, Histogram] = {}
        self._requests: dict[tuple[str, int], Counter] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        watch = StatusWatch(send)
        try:
            await self.app(scope, receive, watch)
        finally:
            route = route_of(scope) or "unmatched"
            latency = self._latency.get(route)
            if latency is None:
                latency = self._latency[route] = self.metrics.latency.labels(route)
            latency.observe(time.perf_counter() - started)
            requests = self._requests.get((route, watch.status))
            if requests is None:
                requests = self.metrics.requests.labels(route, str(watch.status))
                self._requests[route, watch.status] = requests
            requests.inc()


class StatusWatch:
    """An ASGI `send` that notes the response's status on its way (500 until one is sent)."""

    def __init__(self, send: Send) -> None:
        self.status = 500
        self._send = send

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        await self._send(message)


def route_of(scope: Scope) -> str | None:
    """The route template the request matched (set by the router), if any."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else None
