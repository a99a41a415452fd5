"""A server span per HTTP request (plain ASGI, like the metrics middleware), current while the
request runs, so the events a request writes to the outbox are its children. An incoming W3C
`traceparent` makes the request part of the caller's trace."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from conveyor.tracing import Tracing
from gateway.metrics import StatusWatch, route_of


class TracingMiddleware:
    """Added only when tracing is on: off, requests take no detour through it."""

    def __init__(self, app: ASGIApp, tracing: Tracing) -> None:
        self.app = app
        self.tracing = tracing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        watch = StatusWatch(send)
        headers = scope.get("headers") or []
        with self.tracing.serving(scope["method"], scope["path"], headers) as span:
            try:
                await self.app(scope, receive, watch)
            finally:
                span.answered(route_of(scope), watch.status)
