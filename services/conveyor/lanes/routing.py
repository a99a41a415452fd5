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
    """Picks each event's lane, by one rule: the lane asked for (`lane=`), else the lane its lane
    field names, else (for a follow-up) the lane of the event whose handling publishes it, when
    its topic has that lane, else its topic's default lane. Topics without lanes pass unchanged
    (a lane asked for is refused)."""

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
        lane of the event whose handling publishes this one (see `inherits`)."""
        lanes = self._by_topic.get(message.topic)
        if lanes is None:
            if lane is not None:
                raise UnknownLaneError(message.topic, lane, ())
            return message
        if lane is None:
            lane = _inherits(lanes, event, inherited)
        if lane is not None:
            chosen = lane
        elif lanes.field is not None and _field_value(event, lanes.field) is not None:
            chosen = self._lane_of(event, lanes.field, lanes, message.topic)
        else:
            chosen = lanes.default
        check_lane(message.topic, lanes, chosen)
        headers = [*message.headers, (naming.LANE, chosen)]
        return message._replace(topic=lanes.topic(message.topic, chosen), headers=headers)

    def inherits(self, topic: str, event: Event, inherited: str | None) -> str | None:
        """The lane a follow-up on `topic` published without `lane=` takes from its cause:
        `inherited` when the topic has that lane and the event's lane field names none; else
        None (the field or the default lane decides, as for any event)."""
        lanes = self._by_topic.get(topic)
        return None if lanes is None else _inherits(lanes, event, inherited)

    @staticmethod
    def _lane_of(event: Event, field: str, lanes: Lanes, topic: str) -> str:
        value = getattr(event, field)
        found = lanes.lane_of(value)
        if found is None:
            raise UnknownLaneError(topic, str(getattr(value, "value", value)).lower(), lanes.names)
        return found


def _field_value(event: Event, field: str) -> object:
    """The value of the lane field, None where the event has no such field (or it is unset)."""
    return getattr(event, field, None)


def _inherits(lanes: Lanes, event: Event, inherited: str | None) -> str | None:
    if inherited is None or inherited not in lanes.names:
        return None
    if lanes.field is not None and _field_value(event, lanes.field) is not None:
        return None
    return inherited
