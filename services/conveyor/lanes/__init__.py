"""Priority lanes: one topic split into lanes (`high`, `normal`, `low`), each a topic of its own.

The topology declares them (`conveyor.topology`); publishers and the outbox route each event to
its lane (`LaneRouter`); a consuming service serves the higher lanes first (`LaneGate`).
"""

from conveyor.lanes.errors import LaneError, UnknownLaneError
from conveyor.lanes.gate import LaneGate
from conveyor.lanes.model import Lanes, LaneTopic, lane_topics
from conveyor.lanes.routing import LaneRouter

__all__ = [
    "LaneError",
    "LaneGate",
    "LaneRouter",
    "LaneTopic",
    "Lanes",
    "UnknownLaneError",
    "lane_topics",
]
