"""Routing an encoded event to its lane: the topic of the lane, and the `x-lane` header."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from conveyor import naming
from conveyor.events.base import Event
from conveyor.lanes.errors import UnknownLaneError
from conveyor.lanes.model import Lanes, check_lane

if TYPE_CHECKING:  # the publish package imports this module
    from conveyor.publish.message import OutgoingMessage


class LaneRouter:
    """Picks each event's lane: the one asked for, else the one its lane field names, else (for
    a follow-up) the lane of the event that caused it, else its topic's default lane. Topics
    without lanes pass unchanged (a lane asked for is refused)."""

    __slots__ = ("_by_topic",)

    def __init__(self, lanes: Mapping[str, Lanes], topic_for: Mapping[str, str]) -> None:
        """`lanes` by declared topic; `topic_for` renames declared topics (as a publisher's
        `topics`): the message carries the actual name."""
        self._by_topic = {topic_for.get(name, name): spec for name, spec in lanes.items()}

    def route(
        self,
        message: OutgoingMessage,
        event: Event,
        lane: str | None,
        *,
        inherited: str | None = None,
    ) -> OutgoingMessage:
        """`message` bound for its lane's topic, with the lane in its headers; raises
        `UnknownLaneError` (nothing sent) for a lane its topic does not have. `inherited`: the
        lane of the event whose handling publishes this one, taken when the topic has it and
        neither `lane` nor the event's lane field says otherwise."""
        lanes = self._by_topic.get(message.topic)
        if lanes is None:
            if lane is not None:
                raise UnknownLaneError(message.topic, lane, ())
            return message
        if lane is not None:
            chosen = lane
        elif lanes.field is not None and hasattr(event, lanes.field):
            chosen = self._lane_of(event, lanes.field, lanes, message.topic)
        elif inherited is not None and inherited in lanes.names:
            chosen = inherited
        else:
            chosen = lanes.default
        check_lane(message.topic, lanes, chosen)
        headers = [*message.headers, (naming.LANE, chosen)]
        return message._replace(topic=lanes.topic(message.topic, chosen), headers=headers)

    @staticmethod
    def _lane_of(event: Event, field: str, lanes: Lanes, topic: str) -> str:
        value = getattr(event, field)
        found = lanes.lane_of(value)
        if found is None:
            raise UnknownLaneError(topic, str(getattr(value, "value", value)).lower(), lanes.names)
        return found
