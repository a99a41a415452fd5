"""The console's web application: the page, its assets, the JSON endpoints, and the headers
that keep the page to its own origin."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conveyor.console.api import Api
from conveyor.console.sampler import Sampler
from conveyor.console.scope import ConsoleScope
from conveyor.console.settings import ConsoleSettings

ASSETS = Path(__file__).with_name("assets")
LOOPBACK_NAMES = ["127.0.0.1", "localhost", "::1", "[::1]"]

# Nothing but the console itself: no script, style, font or request to any other host, no
# inline script, and no framing by another site.
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def build_app(watched: ConsoleScope, settings: ConsoleSettings, sampler: Sampler) -> Starlette:
    """The application; it starts the sampler with the server and stops it after."""
    api = Api(watched, settings, sampler)

    async def index(request: Request) -> Response:
        return FileResponse(ASSETS / "index.html")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        sampler.start()
        try:
            yield
        finally:
            sampler.stop()

    routes = [
        Route("/", index),
        Route("/api/config", api.config),
        Route("/api/services", api.services),
        Route("/api/services/{service}/dead-letters", api.dead_letters),
        Route("/api/services/{service}/redrive-plan", api.redrive_plan),
        Route("/api/services/{service}/redrive", api.redrive, methods=["POST"]),
        Route("/api/services/{service}/replay-plan", api.replay_plan),
        Route("/api/services/{service}/replay", api.replay, methods=["POST"]),
        Route("/api/jobs/{job:int}", api.job),
        Route("/api/journey", api.journey),
        Mount("/assets", StaticFiles(directory=ASSETS), name="assets"),
    ]
    # A page on another site reaching a loopback console through a DNS name it controls sends
    # that name as Host: refuse it. Bound elsewhere, the operator chose who may connect.
    hosts = LOOPBACK_NAMES if settings.loopback else ["*"]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(TrustedHostMiddleware, allowed_hosts=hosts),
    ]
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
