"""The crm-sync service: one handler that creates the contact, and `main`."""

from __future__ import annotations

import os
from typing import Any

from conveyor.environment import EnvModel, variable
from conveyor.policies import UNORDERED_RETRY, declared_retry, unordered
from conveyor.ratelimit import RateLimit
from conveyor.retry import RetryPolicy
from conveyor.runtime import Context, Service
from conveyor.serve import serve
from conveyor.settings import Settings
from integrations.config import CRM
from integrations.http import ApiClient, JsonApi
from shop_events import UserSignedUp

NAME = "crm-sync"


class CrmSyncVariables(EnvModel):
    """The crm-sync service's own variable (its API's are `integrations.config.CRM`)."""

    rate_limit: int = variable(
        "CRM_RATE_LIMIT",
        50,
        description="Calls per second the CRM's API allows.",
        example="5",
        ge=1,
    )


def contact_of(event: UserSignedUp) -> dict[str, Any]:
    return {"user_id": event.user_id, "email": event.email, "name": event.name}


def build_service(
    crm: JsonApi, rate_limit: RateLimit | None = None, retry: RetryPolicy = UNORDERED_RETRY
) -> Service:
    """`rate_limit` caps calls to the CRM (its API allows so many per second)."""
    service = Service(NAME)

    @service.handler(UserSignedUp, policy=unordered(retry, rate_limit=rate_limit))
    def create_contact(event: UserSignedUp, ctx: Context) -> None:
        answer = crm.post("/contacts", contact_of(event), idempotency_key=event.user_id)
        ctx.log.debug("crm.contact_created", contact_id=answer.body.get("contact_id"))

    return service


def main(settings: Settings, argv: list[str]) -> int:
    """`conveyor run crm-sync`, with `CRM` and `CrmSyncVariables` from the environment."""
    del argv
    env = os.environ
    own = CrmSyncVariables.from_env(env)
    crm = ApiClient(CRM.from_env(env).endpoint())
    try:
        limit = RateLimit(max=own.rate_limit, duration=1.0)
        return serve(
            build_service(crm, limit, declared_retry(NAME, settings.contracts().topology())),
            settings,
            env,
        )
    finally:
        crm.close()
