"""Errors of priority lanes."""

from __future__ import annotations

from conveyor.errors import ConveyorError


class LaneError(ConveyorError):
    """A lane declaration that cannot work."""


class UnknownLaneError(LaneError, ValueError):
    """A publish named a lane its topic does not have, or a lane on a topic without lanes;
    nothing was sent."""

    def __init__(self, topic: str, lane: str, known: tuple[str, ...]) -> None:
        self.topic = topic
        self.lane = lane
        self.known = known
        if known:
            reason = f"topic {topic} has no lane {lane!r} (its lanes: {', '.join(known)})"
        else:
            reason = f"topic {topic} has no lanes, so no lane {lane!r}"
        super().__init__(reason)
