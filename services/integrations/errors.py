"""Errors of the side-effect clients. `*Unavailable` ones may succeed later and are retried;
`*Rejected` ones are `PermanentError`s, dead-lettered without further attempts."""

from __future__ import annotations

from typing import Any

from conveyor.errors import ConveyorError
from conveyor.retry import PermanentError


class IntegrationError(ConveyorError):
    """A side effect on an external system did not happen."""


class ApiUnavailableError(IntegrationError):
    """The API timed out, could not be reached, or answered 5xx/429: try again later."""


class ApiRejectedError(IntegrationError, PermanentError):
    """The API refused the request as invalid (4xx): retrying the same request cannot help."""

    def __init__(self, message: str, *, status: int, body: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class MailUnavailableError(IntegrationError):
    """The SMTP server could not be reached or deferred the message."""


class MailRejectedError(IntegrationError, PermanentError):
    """The SMTP server refused the message or its recipient for good."""
