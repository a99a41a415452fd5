"""The hot routes (`gateway.hot`) answer exactly as FastAPI does: the same status, headers and
body for accepted requests, refusals, and requests FastAPI alone answers; and they are timed and
counted under their route."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from conveyor.publish import PublisherConfig
from gateway.api import router
from gateway.app import create_app
from gateway.hot import HotRoutes
from gateway.service import Gateway, GatewayConfig
from tests.project import repo_codec

_UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ITEMS = [{"sku": "s", "quantity": 2, "unit_price": 5}]
Answer = tuple[int, dict[str, str], bytes]


@contextmanager
def _gateway(tmp_path: Path) -> Iterator[Gateway]:
    config = GatewayConfig(
        database_url=f"sqlite:///{tmp_path / 'gw.sqlite3'}",
        publisher=PublisherConfig(bootstrap_servers="127.0.0.1:1", client_id="hot-test"),
    )
    gateway = Gateway(config, repo_codec())
    gateway.committer.start()  # the writers only: nothing here needs the relay
    try:
        yield gateway
    finally:
        gateway.committer.stop()


@asynccontextmanager
async def _client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client


def _fastapi_of(app: object) -> FastAPI:
    while not isinstance(app, FastAPI):
        app = app.app  # type: ignore[attr-defined]
    return app


async def _answers(app: object, user_id: str, tag: str) -> list[Answer]:
    """Status, headers and body (ids and `tag` masked) of the same requests, in order."""
    email = f"{tag}@example.org"
    json_header = {"content-type": "application/json"}
    requests: list[tuple[str, dict[str, object]]] = [
        ("/signup", {"json": {"email": email, "name": " Ann "}}),
        ("/signup", {"json": {"email": email, "name": "Ann"}}),  # 409
        ("/orders", {"json": {"user_id": user_id, "items": _ITEMS, "currency": "EUR"}}),
        ("/orders", {"json": {"user_id": "nobody", "items": _ITEMS, "currency": "EUR"}}),  # 422
        ("/orders", {"json": {"user_id": user_id, "items": [], "currency": "EUR"}}),  # model
        ("/signup", {"content": b'{"email": ', "headers": json_header}),  # not JSON
        ("/signup", {"content": b"null", "headers": json_header}),
        ("/signup", {"content": json.dumps({"email": email, "name": "A"}).encode()}),  # no type
        ("/signup", {"content": b"\xff", "headers": json_header}),  # not UTF-8
        ("/signup", {"json": {"email": email, "name": "A"}, "params": {"x": "1"}}),  # 409 again
    ]
    answers = []
    async with _client(app) as client:
        for path, kwargs in requests:
            response = await client.post(path, **kwargs)  # type: ignore[arg-type]
            body = _UUID.sub(b"<id>", response.content).replace(tag.encode(), b"<tag>")
            answers.append((response.status_code, dict(response.headers), body))
    return answers


def test_hot_routes_answer_as_fastapi_does(tmp_path: Path) -> None:
    """The same requests, once through the gateway's app and once through FastAPI alone (other
    e-mail addresses, so the first signup of each is accepted), get the same answers."""

    async def both() -> tuple[list[Answer], list[Answer]]:
        with _gateway(tmp_path) as gateway:
            app = create_app(gateway)
            async with _client(app) as client:
                seeded = await client.post(
                    "/signup", json={"email": f"seed-{uuid.uuid4().hex}@example.org", "name": "S"}
                )
            user_id = seeded.json()["user_id"]
            hot = await _answers(app, user_id, uuid.uuid4().hex)
            plain = await _answers(_fastapi_of(app), user_id, uuid.uuid4().hex)
            return hot, plain

    hot, plain = asyncio.run(both())
    assert [answer[0] for answer in hot] == [202, 409, 202, 422, 422, 422, 422, 422, 400, 409]
    assert hot == plain


def test_hot_requests_are_timed_and_counted_under_their_route(tmp_path: Path) -> None:
    async def sign_up() -> int:
        with _gateway(tmp_path) as gateway:
            async with _client(create_app(gateway)) as client:
                response = await client.post(
                    "/signup", json={"email": f"{uuid.uuid4().hex}@example.org", "name": "N"}
                )
            sample = gateway.metrics.registry.get_sample_value
            assert sample("gateway_requests_total", {"route": "/signup", "status": "202"}) == 1
            assert sample("gateway_request_seconds_count", {"route": "/signup"}) == 1
            return response.status_code

    assert asyncio.run(sign_up()) == 202


def test_a_route_that_needs_fastapi_is_not_taken() -> None:
    app = FastAPI()

    @app.post("/signup")
    async def signup(body: dict[str, str], limit: int = 1) -> None:  # a query parameter
        return None

    with pytest.raises(ValueError, match="not a plain JSON route"):
        HotRoutes(app, app.routes)
    with pytest.raises(ValueError, match="no POST route at /orders"):
        HotRoutes(app, [], paths=("/orders",))


def test_the_gateways_signup_and_orders_are_hot() -> None:
    app = FastAPI()
    app.include_router(router)
    assert HotRoutes(app, router.routes).paths == {"/signup", "/orders"}
