"""The lane a handler's follow-ups take: `LaneRouter`'s one rule (`lane=` given, else the event's
lane field, else the lane of the event being handled when the target topic has it, else the
default lane), for transactional services (`FollowUps`) and the others (`LaneFollowing`) alike.
"""

from __future__ import annotations

from collections.abc import Mapping

from conveyor import naming
from conveyor.events.base import Event
from conveyor.lanes.model import Lanes
from conveyor.lanes.routing import LaneRouter
from conveyor.runtime.context import EventMeta, FollowUpPublisher, HasMeta


def cause_lane(source: EventMeta | HasMeta) -> str | None:
    """The lane of the event being handled (its `x-lane` header), None outside lanes."""
    meta = source if isinstance(source, EventMeta) else source.meta
    found = meta.header(naming.LANE)
    return found.decode(errors="replace") if found is not None else None


class LaneFollowing:
    """A service's publisher, seen by each attempt's handler through `publisher_for`: a
    follow-up published without `lane=` goes to the lane of the event being handled where the
    rule says so; the publisher routes the rest as it routes any event."""

    __slots__ = ("_publisher", "_router")

    def __init__(self, publisher: FollowUpPublisher, lanes: Mapping[str, Lanes]) -> None:
        """`lanes` by declared topic (`Topology.lanes`), as the publisher's own."""
        self._publisher = publisher
        self._router = LaneRouter(lanes, {})

    def publisher_for(self, item: EventMeta | HasMeta) -> FollowUpPublisher:
        return _Following(self._publisher, self._router, item)


class _Following:
    __slots__ = ("_cause", "_publisher", "_router")

    def __init__(
        self, publisher: FollowUpPublisher, router: LaneRouter, cause: EventMeta | HasMeta
    ) -> None:
        self._publisher = publisher
        self._router = router
        self._cause = cause  # its lane is read when a follow-up asks for it, if ever

    def publish(self, event: Event, *, lane: str | None = None) -> object:
        if lane is None:
            lane = self._router.inherits(event.TOPIC, event, cause_lane(self._cause))
        if lane is None:
            return self._publisher.publish(event)
        return self._publisher.publish(event, lane=lane)
