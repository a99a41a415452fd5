"""From an event to the message a publisher sends: encoded, routed to its lane, delayed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from conveyor import naming
from conveyor.delay.envelope import DelayRouter
from conveyor.events.base import Event
from conveyor.lanes.model import Lanes
from conveyor.lanes.routing import LaneRouter
from conveyor.publish.message import MessageBuilder, OutgoingMessage
from conveyor.typing import Codec


class Routes:
    """What `Publisher`, `AsyncPublisher` and `Outbox` share: an event's message, on its lane's
    topic (`lane`, else its lane field, else its topic's default lane), or in the delay topic."""

    __slots__ = ("_build", "_delays", "_laned", "_lanes")

    def __init__(
        self,
        codec: Codec,
        topics: Mapping[str, str],
        lanes: Mapping[str, Lanes],
        max_delay: timedelta,
    ) -> None:
        def topic_for(declared: str) -> str:
            return topics.get(declared, declared)

        self._build: Callable[[Event, str | None, str | None], OutgoingMessage] = MessageBuilder(
            codec, topic_for
        ).build
        self._lanes = LaneRouter(lanes, topics)
        self._laned = bool(lanes)
        self._delays = DelayRouter(topic_for(naming.DELAY_TOPIC), max_delay)

    def message(  # noqa: PLR0917 - the publish arguments, passed on as they came
        self,
        event: Event,
        correlation_id: str | None,
        traceparent: str | None,
        lane: str | None,
        delay: timedelta | None,
        deliver_at: datetime | None,
    ) -> OutgoingMessage:
        """Raises `InvalidEventError`, `UnknownLaneError` or `DelayTooLongError`: nothing sent."""
        message = self._build(event, correlation_id, traceparent)
        if self._laned or lane is not None:
            message = self._lanes.route(message, event, lane)
        if delay is not None or deliver_at is not None:
            message = self._delays.route(message, delay, deliver_at)
        return message
