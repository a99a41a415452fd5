"""Events of the user lifecycle, on topic `user.signup`, keyed by `user_id`."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from conveyor.events import Event
from conveyor.events.fields import EntityId, Text

USER_TOPIC = "user.signup"


class UserSignedUp(Event):
    """A user created an account (schema `schemas/users/UserSignedUp.v2.avsc`)."""

    TOPIC: ClassVar[str] = USER_TOPIC
    KEY_FIELD: ClassVar[str] = "user_id"
    AVRO_NAME: ClassVar[str] = "conveyor.events.UserSignedUp"

    user_id: EntityId = Field(description="Id of the new user; the Kafka key.")
    email: Text = Field(description="The address the user signed up with.")
    name: Text = Field(description="The user's display name.")
    referral_code: str | None = Field(
        default=None, description="Code of the referral that brought the user, if any (v2)."
    )
