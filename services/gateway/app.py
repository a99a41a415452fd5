"""The ASGI application of the public API port: the routes, timed as a whole, and the lifecycle
of the writer threads and the outbox relay. Probes and metrics are on the admin port
(`gateway.admin`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from starlette.types import ASGIApp

from gateway.api import router
from gateway.hot import HotRoutes
from gateway.metrics import MetricsMiddleware, watch_event_loop
from gateway.service import Gateway
from gateway.tracing import TracingMiddleware


def create_app(gateway: Gateway) -> ASGIApp:
    """The app for `gateway`; its lifespan starts and stops the writers and the relay."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        gateway.start()
        watcher = asyncio.create_task(watch_event_loop(gateway.metrics))
        try:
            yield
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            await run_in_threadpool(gateway.stop)

    app = FastAPI(
        title="conveyor gateway",
        version="1",
        lifespan=lifespan,
        # FastAPI's own OpenTelemetry spans and metrics off: the gateway has its own (a server
        # span per request from `TracingMiddleware`, the Prometheus histogram), and FastAPI's
        # would repeat them and cost a check of the providers on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.gateway = gateway
    app.include_router(router)
    # Tracing outermost, when on: the metrics' time is inside the request's span; the hot
    # routes' requests are timed and counted like every other.
    served: ASGIApp = MetricsMiddleware(HotRoutes(app, router.routes), metrics=gateway.metrics)
    if gateway.tracing.enabled:
        served = TracingMiddleware(served, tracing=gateway.tracing)
    return served
