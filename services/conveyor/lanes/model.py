"""A topic's lanes as the topology declares them, and the topics they are.

The default lane is the topic itself, so a topic gains lanes without moving its events or its
consumers' offsets; every other lane is a topic of its own, `<topic>.lane.<lane>`
(`conveyor.naming.lane_topic`), with the topic's partitions and settings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, NamedTuple

from conveyor import naming
from conveyor.lanes.errors import LaneError, UnknownLaneError

_LANE_NAME: Final = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


@dataclass(frozen=True)
class Lanes:
    """The lanes of one topic, highest first.

    `field`: the event field whose value names an event's lane (`priority: HIGH` -> `high`) when
    the publisher is given none. `share` of every `period_s` seconds, a lane held back by higher
    lanes' waiting events is fetched anyway, so it never starves. A held lane is let go once
    nothing above it has waited for `resume_after_s`: a steady trickle of urgent events, each
    handled before the next arrives, keeps the lower lanes held (and their fetched events) instead
    of resuming and pausing them between any two.
    """

    names: tuple[str, ...]
    default: str
    field: str | None = None
    share: float = 0.1
    period_s: float = 1.0
    resume_after_s: float = 0.1

    def __post_init__(self) -> None:
        if len(self.names) < 2:
            raise LaneError(f"lanes {list(self.names)}: a topic with lanes has at least two")
        bad = [name for name in self.names if not _LANE_NAME.match(name)]
        if bad:
            raise LaneError(f"lane names are lower-case letters, digits and dashes, not {bad}")
        if len(set(self.names)) != len(self.names):
            raise LaneError(f"lanes {list(self.names)} name a lane twice")
        if self.default not in self.names:
            raise LaneError(f"the default lane {self.default!r} is not one of {list(self.names)}")
        if not 0 < self.share < 1 or self.period_s <= 0:
            raise LaneError("a lane's share is between 0 and 1 (exclusive) of a positive period")
        if self.resume_after_s < 0:
            raise LaneError("a held lane's resume_after is not negative")

    def rank(self, lane: str) -> int:
        """0 for the highest lane."""
        return self.names.index(lane)

    def topic(self, base: str, lane: str) -> str:
        """The topic of `lane` of the topic named `base`."""
        return base if lane == self.default else naming.lane_topic(base, lane)

    def topics(self, base: str) -> tuple[str, ...]:
        """Every lane's topic, highest lane first."""
        return tuple(self.topic(base, lane) for lane in self.names)

    def lane_of(self, value: object) -> str | None:
        """The lane a field value names (an enum's value, lower-cased), None if none."""
        text = str(getattr(value, "value", value)).lower()
        return text if text in self.names else None


class LaneTopic(NamedTuple):
    """One lane of one topic, as a consumer subscribes to it."""

    base: str  # the topic with lanes (its default lane's topic)
    lane: str
    rank: int  # 0: the highest lane
    topic: str


def lane_topics(
    declared: Mapping[str, Lanes], topics: Mapping[str, str] | None = None
) -> dict[str, LaneTopic]:
    """Every lane topic of the `declared` topics (by name), renamed through `topics` (declared ->
    actual, as a service's topic map): actual topic -> its lane."""
    found: dict[str, LaneTopic] = {}
    for name, lanes in declared.items():
        base = (topics or {}).get(name, name)
        for rank, lane in enumerate(lanes.names):
            topic = lanes.topic(base, lane)
            found[topic] = LaneTopic(base, lane, rank, topic)
    return found


def check_lane(topic: str, lanes: Lanes | None, lane: str) -> str:
    """`lane` when `topic` (with `lanes`) has it; else `UnknownLaneError`."""
    if lanes is None or lane not in lanes.names:
        raise UnknownLaneError(topic, lane, lanes.names if lanes else ())
    return lane
