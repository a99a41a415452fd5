"""welcome-email: sends each new user one welcome e-mail over SMTP.

The Message-ID derives from the event id, so a redelivered `UserSignedUp` produces a message the
receiving side recognises as the same one.

    SMTP_HOST=127.0.0.1 SMTP_PORT=8025 conveyor run welcome-email
"""

from welcome_email.service import NAME, build_service, main, welcome_mail

__all__ = ["NAME", "build_service", "main", "welcome_mail"]
