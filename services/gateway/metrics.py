"""Prometheus metrics of one gateway, in its own registry (several apps may share a process)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send


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
            "Time to answer an HTTP request, by route.",
            ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
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


class MetricsMiddleware:
    """Counts and times each HTTP request by route template and status (plain ASGI: no extra
    task or stream per request, unlike `BaseHTTPMiddleware`)."""

    def __init__(self, app: ASGIApp, metrics: GatewayMetrics) -> None:
        self.app = app
        self.metrics = metrics

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
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)
            self.metrics.requests.labels(route, str(watch.status)).inc()


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
