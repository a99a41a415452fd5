"""A small JSON client for an external API: bounded timeouts, an idempotency key on every
write, and errors mapped to retryable or permanent."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from integrations.errors import ApiRejectedError, ApiUnavailableError

RETRYABLE_STATUSES = frozenset({408, 425, 429})


@dataclass(frozen=True)
class ApiAnswer:
    status: int
    body: Any


@dataclass(frozen=True)
class ApiEndpoint:
    """Where an API lives and how long to wait for it."""

    base_url: str
    connect_timeout: float = 2.0
    read_timeout: float = 10.0


class JsonApi(Protocol):
    """What a handler needs from an API (`ApiClient`, or a fake in unit tests)."""

    def post(
        self,
        path: str,
        payload: dict[str, Any],
        *,
        idempotency_key: str,
        accept: Collection[int] = (),
    ) -> ApiAnswer: ...


class ApiClient:
    """Thread-safe; one per process, shared by the handler threads."""

    def __init__(self, endpoint: ApiEndpoint, transport: httpx.BaseTransport | None = None) -> None:
        timeout = httpx.Timeout(endpoint.read_timeout, connect=endpoint.connect_timeout)
        self._http = httpx.Client(base_url=endpoint.base_url, timeout=timeout, transport=transport)

    def post(
        self,
        path: str,
        payload: dict[str, Any],
        *,
        idempotency_key: str,
        accept: Collection[int] = (),
    ) -> ApiAnswer:
        """POST JSON; 2xx and the `accept`ed statuses are answers, the rest raise."""
        try:
            response = self._http.post(
                path, json=payload, headers={"Idempotency-Key": idempotency_key}
            )
        except httpx.HTTPError as exc:
            raise ApiUnavailableError(f"POST {path} failed: {type(exc).__name__}") from exc
        return _answer(response, path, accept)

    def get(self, path: str) -> Any:
        try:
            response = self._http.get(path)
        except httpx.HTTPError as exc:
            raise ApiUnavailableError(f"GET {path} failed: {type(exc).__name__}") from exc
        return _answer(response, path, ()).body

    def close(self) -> None:
        self._http.close()


def _answer(response: httpx.Response, path: str, accept: Collection[int]) -> ApiAnswer:
    status = response.status_code
    if response.is_success or status in accept:
        return ApiAnswer(status, response.json() if response.content else None)
    if status >= 500 or status in RETRYABLE_STATUSES:
        raise ApiUnavailableError(f"{path} answered {status}")
    body = response.json() if "json" in response.headers.get("content-type", "") else response.text
    raise ApiRejectedError(f"{path} answered {status}", status=status, body=body)
