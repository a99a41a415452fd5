"""crm-sync against the CRM stand-in over HTTP: one contact per user, flaky CRM is retryable."""

from __future__ import annotations

import pytest

from conveyor.runtime.testing import ServiceHarness
from crm_sync import build_service
from integrations.errors import ApiUnavailableError
from integrations.http import ApiClient, ApiEndpoint
from shop_events import UserSignedUp
from standins.apis import Api, StandinConfig
from standins.faults import FaultPlan
from tests.services.support import running_standin

ADA = UserSignedUp(user_id="u1", email="ada@example.com", name="Ada")


def test_a_redelivered_signup_creates_one_contact() -> None:
    """The user id is the idempotency key, so the second delivery changes nothing at the CRM."""
    with running_standin(StandinConfig(Api.CRM)) as url:
        crm = ApiClient(ApiEndpoint(url))
        harness = ServiceHarness(build_service(crm))
        harness.feed(ADA)
        harness.feed(ADA, attempt=2)
        contacts = crm.get("/contacts")
    assert [(c["user_id"], c["email"]) for c in contacts] == [("u1", "ada@example.com")]


def test_a_failing_crm_raises_a_retryable_error_and_then_recovers() -> None:
    """While the CRM answers 503 the handler raises ApiUnavailableError; the retry succeeds."""
    with running_standin(StandinConfig(Api.CRM, FaultPlan(fail_first_calls=1))) as url:
        crm = ApiClient(ApiEndpoint(url))
        harness = ServiceHarness(build_service(crm))
        with pytest.raises(ApiUnavailableError):
            harness.feed(ADA)
        harness.feed(ADA, attempt=2)
        assert len(crm.get("/contacts")) == 1
