"""The stand-in APIs, served on loopback: idempotency keys, declines, injected faults and the
listings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import httpx
import pytest

from standins.apis import Api, StandinConfig
from standins.faults import FaultInjector, FaultPlan
from tests.services.support import running_standin

Client = Callable[..., httpx.Client]


@pytest.fixture
def client() -> Iterator[Client]:
    """`client(api, faults)`: an HTTP client of a fresh stand-in served for this test."""
    with ExitStack() as stack:

        def serve(api: Api, faults: FaultPlan | None = None) -> httpx.Client:
            config = StandinConfig(api=api, faults=faults or FaultPlan())
            url = stack.enter_context(running_standin(config))
            return stack.enter_context(httpx.Client(base_url=url, timeout=10))

        yield serve


def test_same_idempotency_key_creates_one_contact_and_replays_the_answer(client: Client) -> None:
    """A retried call with the same key gets the first answer and creates nothing new."""
    crm = client(Api.CRM)
    body = {"user_id": "u1", "email": "a@example.com", "name": "Ada"}
    first = crm.post("/contacts", json=body, headers={"Idempotency-Key": "u1"})
    second = crm.post("/contacts", json=body, headers={"Idempotency-Key": "u1"})
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert [c["user_id"] for c in crm.get("/contacts").json()] == ["u1"]
    assert crm.get("/stats").json()["replays"] == 1


def test_missing_idempotency_key_is_rejected(client: Client) -> None:
    """Without a key the API refuses, so no caller can create duplicates by accident."""
    crm = client(Api.CRM)
    response = crm.post("/contacts", json={"user_id": "u1", "email": "e", "name": "n"})
    assert response.status_code == 422
    assert crm.get("/contacts").json() == []


def test_amounts_ending_in_the_decline_digits_are_declined_once(client: Client) -> None:
    """A declined charge answers 402 and keeps answering 402 for the same key."""
    payments = client(Api.PAYMENTS)
    declined = {"order_id": "o1", "amount": 1013, "currency": "EUR"}
    paid = {"order_id": "o2", "amount": 1000, "currency": "EUR"}
    assert (
        payments.post("/charges", json=declined, headers={"Idempotency-Key": "o1"}).status_code
        == 402
    )
    assert (
        payments.post("/charges", json=declined, headers={"Idempotency-Key": "o1"}).status_code
        == 402
    )
    assert (
        payments.post("/charges", json=paid, headers={"Idempotency-Key": "o2"}).status_code == 201
    )
    statuses = {c["order_id"]: c["status"] for c in payments.get("/charges").json()}
    assert statuses == {"o1": "declined", "o2": "succeeded"}


def test_warehouse_creates_a_shipment_with_tracking(client: Client) -> None:
    """A shipment gets a carrier and a tracking number, and is listed."""
    warehouse = client(Api.WAREHOUSE)
    body = {"order_id": "o1", "lines": [{"sku": "BOOK", "quantity": 2}]}
    answer = warehouse.post("/shipments", json=body, headers={"Idempotency-Key": "o1"}).json()
    assert answer["carrier"] == "DHL"
    assert answer["tracking_number"]
    assert warehouse.get("/shipments").json() == [answer]


def test_the_first_calls_fail_then_the_api_recovers(client: Client) -> None:
    """'Fail the first N calls' answers 503 without side effects, then serves normally."""
    crm = client(Api.CRM, FaultPlan(fail_first_calls=2))
    body = {"user_id": "u1", "email": "a@example.com", "name": "Ada"}
    codes = [
        crm.post("/contacts", json=body, headers={"Idempotency-Key": "u1"}).status_code
        for _ in range(3)
    ]
    assert codes == [503, 503, 201]
    assert len(crm.get("/contacts").json()) == 1


def test_outage_window_is_measured_from_the_first_call() -> None:
    """Calls fail while the clock is inside the flaky start and pass after it; an API nobody
    called yet has not started its outage."""
    now = [50.0]
    injector = FaultInjector(FaultPlan(fail_first_seconds=5), clock=lambda: now[0])
    now[0] = 100.0
    assert injector.should_fail()
    now[0] = 106.0
    assert not injector.should_fail()
    assert (injector.calls, injector.failed) == (2, 1)


def test_failure_rate_is_a_share_of_calls() -> None:
    """A 30% failure rate fails roughly 30% of many calls (seeded, so reproducible)."""
    injector = FaultInjector(FaultPlan(failure_rate=0.3, seed=7))
    failures = sum(injector.should_fail() for _ in range(2000))
    assert 500 < failures < 700


def test_random_failures_stop_after_their_window() -> None:
    """With `failures_for`, the failure rate applies only that long after start."""
    now = [0.0]
    injector = FaultInjector(FaultPlan(failure_rate=1.0, failures_for=10), clock=lambda: now[0])
    assert injector.should_fail()
    now[0] = 10.5
    assert not injector.should_fail()
