"""Errors of the side-effect clients. Retryable ones say the far side may succeed later."""

from __future__ import annotations

from typing import Any

from conveyor.errors import ConveyorError


class IntegrationError(ConveyorError):
    """A side effect on an external system did not happen."""

    retryable: bool = True


class ApiUnavailableError(IntegrationError):
    """The API timed out, could not be reached, or answered 5xx/429: try again later."""


class ApiRejectedError(IntegrationError):
    """The API refused the request as invalid (4xx): retrying the same request cannot help."""

    retryable = False

    def __init__(self, message: str, *, status: int, body: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class MailUnavailableError(IntegrationError):
    """The SMTP server could not be reached or deferred the message."""


class MailRejectedError(IntegrationError):
    """The SMTP server refused the message or its recipient for good."""

    retryable = False
