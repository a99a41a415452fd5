"""Sending one e-mail per event over SMTP. The Message-ID is derived from the event id and the
kind of mail, so a redelivered event produces a recognisably identical message."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol
from uuid import UUID

from integrations.errors import MailRejectedError, MailUnavailableError


@dataclass(frozen=True)
class SmtpEndpoint:
    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "conveyor <no-reply@conveyor.invalid>"
    timeout: float = 10.0
    domain: str = "conveyor.invalid"  # right-hand side of the Message-IDs


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def message_id(event_id: UUID, kind: str, domain: str) -> str:
    """`<kind.event_id@domain>`: the same event and kind always give the same Message-ID."""
    return f"<{kind}.{event_id}@{domain}>"


def compose(mail: Mail, *, event_id: UUID, kind: str, endpoint: SmtpEndpoint) -> EmailMessage:
    message = EmailMessage()
    message["From"] = endpoint.sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Message-ID"] = message_id(event_id, kind, endpoint.domain)
    message["X-Conveyor-Event-Id"] = str(event_id)
    message.set_content(mail.body)
    return message


class Mailer:
    """Opens one short SMTP session per message: simple, and safe from many threads."""

    def __init__(self, endpoint: SmtpEndpoint) -> None:
        self._endpoint = endpoint

    def send(self, mail: Mail, *, event_id: UUID, kind: str) -> str:
        """Send and return the Message-ID used."""
        message = compose(mail, event_id=event_id, kind=kind, endpoint=self._endpoint)
        try:
            with smtplib.SMTP(
                self._endpoint.host, self._endpoint.port, timeout=self._endpoint.timeout
            ) as smtp:
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise MailRejectedError("recipient refused") from exc
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise MailRejectedError(f"SMTP server answered {exc.smtp_code}") from exc
            raise MailUnavailableError(f"SMTP server answered {exc.smtp_code}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise MailUnavailableError(f"SMTP failed: {type(exc).__name__}") from exc
        return str(message["Message-ID"])


class MailSender(Protocol):
    """What a handler needs to send mail (`Mailer`, or a recorder in tests)."""

    def send(self, mail: Mail, *, event_id: UUID, kind: str) -> str: ...
