"""What the gateway answers with something other than 202."""

from __future__ import annotations

from conveyor.errors import ConveyorError


class GatewayError(ConveyorError):
    """Root of the gateway's errors."""


class DuplicateEmailError(GatewayError):
    """A user with this e-mail address exists already (409)."""


class UnknownUserError(GatewayError):
    """An order names a user the gateway does not know (422 on `user_id`)."""


class UnknownOrderError(GatewayError):
    """No order has this id (404)."""


class OrderAlreadyCancelledError(GatewayError):
    """The order was cancelled before (409)."""


class UnsupportedDatabaseError(GatewayError):
    """The database URL is neither `sqlite:///path` nor `postgresql://...`."""
