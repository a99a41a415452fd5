"""The ASGI application: routes, health probes, metrics, and the relay's lifecycle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.api import router
from gateway.metrics import MetricsMiddleware
from gateway.service import Gateway
from gateway.tracing import TracingMiddleware


def create_app(gateway: Gateway) -> FastAPI:
    """The app for `gateway`; its lifespan starts and stops the outbox relay."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        gateway.start()
        try:
            yield
        finally:
            await run_in_threadpool(gateway.stop)

    app = FastAPI(title="conveyor gateway", lifespan=lifespan)
    app.state.gateway = gateway
    app.include_router(router)

    app.add_middleware(MetricsMiddleware, metrics=gateway.metrics)
    if gateway.tracing.enabled:  # outermost: the metrics' time is inside the request's span
        app.add_middleware(TracingMiddleware, tracing=gateway.tracing)

    @app.get("/livez")
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        checks = {
            "database": gateway.db.ping(),
            "kafka": gateway.kafka_answers(),
            "relay": gateway.relay_alive(),
        }
        ready = all(checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    @app.get("/metrics")
    def metrics() -> Response:
        body = generate_latest(gateway.metrics.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return app
