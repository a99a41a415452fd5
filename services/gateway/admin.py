"""The operator's endpoints, on the admin port: `/livez`, `/readyz` and `/metrics`.

`/metrics` is the Prometheus text exposition format (not JSON); `/readyz` answers 503 with the
failing checks while the database, the broker or the relay is not there.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.service import Gateway


def create_admin_app(gateway: Gateway) -> Starlette:
    async def livez(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    def checks() -> dict[str, bool]:
        return {
            "database": gateway.db.ping(),
            "kafka": gateway.kafka_answers(),
            "relay": gateway.relay_alive(),
        }

    async def readyz(_: Request) -> Response:
        results = await run_in_threadpool(checks)  # blocking probes, off the event loop
        ready = all(results.values())
        return JSONResponse({"ready": ready, "checks": results}, status_code=200 if ready else 503)

    async def metrics(_: Request) -> Response:
        body = generate_latest(gateway.metrics.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[
            Route("/livez", livez, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ]
    )
