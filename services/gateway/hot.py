"""The two routes that take nearly all the traffic, answered without FastAPI's per-request layers
when the request needs none of them.

FastAPI runs every request through its middleware stack, its routers, exit stacks and the
resolution of the endpoint's parameters: at 1,000 requests/s about a fifth of the gateway's
CPU. For `POST /signup` and `POST /orders` with a JSON body (`Content-Type: application/json`)
that the route's own body field accepts, `HotRoutes` calls the route's endpoint itself and sends
the response it returns, the one FastAPI would send. A refusal the endpoint raises is answered by
the app's handler for it, and any other error as Starlette answers it (500, then raised for the
server to log). Everything else (other paths and methods, other content types, bodies that are
not JSON or that the body field refuses) goes to FastAPI with the body as it was received, so
those answers, 422 details included, are FastAPI's own.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute
from starlette.types import Message, Receive, Scope, Send

HOT_PATHS = ("/signup", "/orders")
_JSON = b"application/json"


@dataclass(frozen=True)
class _Hot:
    route: APIRoute
    endpoint: Callable[..., Awaitable[Response]]


class HotRoutes:
    """ASGI: `app`, with the hot routes' plain requests answered directly."""

    def __init__(
        self, app: FastAPI, routes: Sequence[BaseRoute], paths: tuple[str, ...] = HOT_PATHS
    ) -> None:
        """`routes`: those of the router the app includes (FastAPI keeps an included router's
        routes with it); raises `ValueError` unless each of `paths` is a plain POST route."""
        self.app = app
        hot = _hot_routes(app, routes, paths)
        self._hot = {route.path: _Hot(route, route.endpoint) for route in hot}
        self.paths = frozenset(self._hot)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hot = self._hot.get(scope["path"]) if _plain_post(scope) else None
        if hot is None:
            await self.app(scope, receive, send)
            return
        messages = await _read_request(receive)
        body = _json_body(scope, messages)
        if body is not None:
            value, errors = hot.route.body_field.validate(body, {}, loc=("body",))  # type: ignore[union-attr]
            if not errors:
                await self._answer(hot, value, scope, receive, send)
                return
        await self.app(scope, _replay(messages, receive), send)

    async def _answer(
        self, hot: _Hot, value: Any, scope: Scope, receive: Receive, send: Send
    ) -> None:
        scope.update(app=self.app, route=hot.route, endpoint=hot.endpoint, path_params={})
        request = Request(scope, receive)
        try:
            try:
                response = await hot.endpoint(body=value, request=request)
            except Exception as exc:
                handler = self._handler(exc)
                if handler is None:
                    raise
                if inspect.iscoroutinefunction(handler):
                    response = await handler(request, exc)
                else:
                    response = await run_in_threadpool(handler, request, exc)
        except Exception:
            await PlainTextResponse("Internal Server Error", status_code=500)(scope, receive, send)
            raise
        await response(scope, receive, send)

    def _handler(self, exc: Exception) -> Any:
        """The app's handler for `exc` (by its classes, as Starlette looks it up), if any; one
        registered for `Exception` itself answers in Starlette's error middleware, as here."""
        handlers = self.app.exception_handlers
        for cls in type(exc).__mro__:
            if cls is Exception:
                return None
            if cls in handlers:
                return handlers[cls]
        return None


def _hot_routes(
    app: FastAPI, routes: Sequence[BaseRoute], paths: tuple[str, ...]
) -> list[APIRoute]:
    """The POST routes at `paths` whose endpoints take exactly a JSON body and the request
    (nothing FastAPI would have to resolve), with no body size limit of their own or the app's."""
    hot = []
    for route in routes:
        if not (isinstance(route, APIRoute) and route.path in paths and route.methods == {"POST"}):
            continue
        dependant = route.dependant
        plain = (
            route.body_field is not None
            and [p.name for p in dependant.body_params] == ["body"]
            and dependant.request_param_name == "request"
            and not (dependant.path_params or dependant.query_params or dependant.header_params)
            and not (dependant.cookie_params or dependant.dependencies)
            and getattr(route, "max_body_size", None) is None  # (FastAPI >= 0.165 has limits)
            and getattr(app, "max_body_size", None) is None
        )
        if not plain:
            raise ValueError(f"{route.path} is not a plain JSON route")
        hot.append(route)
    if missing := set(paths) - {route.path for route in hot}:
        raise ValueError(f"no POST route at {', '.join(sorted(missing))}")
    return hot


def _plain_post(scope: Scope) -> bool:
    return scope["type"] == "http" and scope["method"] == "POST" and not scope.get("root_path")


async def _read_request(receive: Receive) -> list[Message]:
    """The request's messages up to its last body chunk (or a disconnect)."""
    messages = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


def _json_body(scope: Scope, messages: list[Message]) -> Any:
    """The decoded body of a complete request sent as `application/json`; None otherwise (also
    for the JSON `null`, which no route's model accepts)."""
    if messages[-1]["type"] != "http.request":
        return None
    content_type = next((v for k, v in scope["headers"] if k == b"content-type"), None)
    if content_type != _JSON:
        return None
    body = b"".join(m.get("body", b"") for m in messages)
    if not body:
        return None
    try:
        return json.loads(body)
    except Exception:  # not JSON, not UTF-8, nested too deep: FastAPI answers it
        return None


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """`receive` that hands out `messages` again first."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed
