"""The welcome-email service: one handler, its mail, and `main`."""

from __future__ import annotations

import os

from conveyor.events import UserSignedUp
from conveyor.runtime import Context, HandlerPolicy, Ordering, Service
from conveyor.settings import Settings
from integrations.config import smtp_endpoint
from integrations.mail import Mail, Mailer, MailSender
from integrations.serve import serve

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


def build_service(mailer: MailSender) -> Service:
    service = Service(NAME)

    @service.handler(UserSignedUp, policy=HandlerPolicy(ordering=Ordering.UNORDERED))
    def send_welcome(event: UserSignedUp, ctx: Context) -> None:
        mailer.send(welcome_mail(event), event_id=event.event_id, kind=KIND)

    return service


def main(settings: Settings, argv: list[str]) -> int:
    """`conveyor run welcome-email`; SMTP_HOST/SMTP_PORT name the mail server."""
    del argv
    env = os.environ
    return serve(build_service(Mailer(smtp_endpoint(env))), settings, env)
