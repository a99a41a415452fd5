"""The welcome-email service: one handler, its mail, and `main`."""

from __future__ import annotations

import os

from conveyor.idempotency import ProcessedEventStore
from conveyor.policies import UNORDERED_RETRY, declared_retry, unordered
from conveyor.retry import RetryPolicy
from conveyor.runtime import Context, Service
from conveyor.serve import serve
from conveyor.settings import Settings
from integrations.config import MailVariables
from integrations.mail import Mail, Mailer, MailSender
from integrations.store import processed_store
from shop_events import UserSignedUp

NAME = "welcome-email"
KIND = "welcome"


def welcome_mail(event: UserSignedUp) -> Mail:
    return Mail(
        to=event.email,
        subject=f"Welcome to conveyor, {event.name}",
        body=(
            f"Hello {event.name},\n\nyour account is ready. "
            "Orders you place will be confirmed by e-mail.\n\nThe conveyor team\n"
        ),
    )


def build_service(
    mailer: MailSender,
    store: ProcessedEventStore | None = None,
    retry: RetryPolicy = UNORDERED_RETRY,
) -> Service:
    """`store` marks each signup mailed, so a redelivery does not mail again."""
    service = Service(NAME)

    @service.handler(UserSignedUp, policy=unordered(retry, store))
    def send_welcome(event: UserSignedUp, ctx: Context) -> None:
        mailer.send(welcome_mail(event), event_id=event.event_id, kind=KIND)

    return service


def main(settings: Settings, argv: list[str]) -> int:
    """`conveyor run welcome-email`; SMTP_HOST/SMTP_PORT name the mail server."""
    del argv
    env = os.environ
    store = processed_store(env, settings.state_dir, NAME)
    try:
        service = build_service(
            Mailer(MailVariables.from_env(env).endpoint()),
            store,
            declared_retry(NAME, settings.contracts().topology()),
        )
        return serve(service, settings, env)
    finally:
        store.close()
