"""Serving the higher lane first: which lane topics a consumer holds back, and when.

A lane is held back (its partitions paused) while a higher lane of its topic has events waiting
in this process, and for `resume_after_s` after that, except for `share` of each `period_s` of
that hold: then it is fetched anyway (for that long from when its first events arrived), so a
steady stream of urgent events slows the lower lanes down to their share and never stops them.
The hold's clock starts when the lane is first held and stops when nothing above it has waited
for `resume_after_s`. Without that delay a stream of urgent events that each finish before the
next arrives would resume the lower lanes between any two: each resume fetches them again (a
pause drops what the client prefetched), and the next urgent event waits behind that fetch.
In its share a lane steps aside for one update whenever events arrive above it (a partition
above with nothing waiting has some): the pause drops what the client fetched of it, so the
urgent event is consumed next rather than behind that, and the share goes on from the next
update. A backlog above, always waiting, never makes it step aside.
A pure policy: the poll loop says which lane topics have events waiting and when it is.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from conveyor.lanes.model import Lanes, LaneTopic


class LaneGate:
    """The lane topics to hold back, given those with events waiting."""

    def __init__(self, lanes: Mapping[str, tuple[LaneTopic, Lanes]]) -> None:
        """`lanes`: actual lane topic -> its lane and its topic's lanes."""
        self.lanes = dict(lanes)
        self._since: dict[str, float] = {}  # lane topic -> when its current hold began
        self._open: dict[str, float] = {}  # lane topic -> when its current share began
        self._fetched: set[str] = set()  # lane topics that fetched events in their share
        self._seen: dict[str, float] = {}  # lane topic -> when it last had events waiting
        self.held: frozenset[str] = frozenset()

    @property
    def topics(self) -> Collection[str]:
        return self.lanes.keys()

    def rank(self, topic: str) -> int:
        """The lane rank of `topic` (0, the highest, for a topic without lanes)."""
        found = self.lanes.get(topic)
        return 0 if found is None else found[0].rank

    def update(
        self,
        waiting: Collection[str],
        now: float,
        fetched: Collection[str] = (),
        arrived: Collection[str] = (),
    ) -> bool:
        """Work out the lane topics to hold back (`held`) from those with events `waiting` at
        `now` (seconds, monotonic), those that `fetched` events since the last update and those
        where events `arrived` (a partition with nothing waiting before has some now); True when
        that changed."""
        seen = self._seen
        for topic in waiting:
            if topic in self.lanes:
                seen[topic] = now
        highest: dict[str, int] = {}  # base topic -> the highest lane rank waiting, or just now
        for topic, at in seen.items():
            lane, spec = self.lanes[topic]
            if topic in waiting or 0 <= now - at < spec.resume_after_s:
                highest[lane.base] = min(highest.get(lane.base, lane.rank), lane.rank)
        newest = _highest(self.lanes, arrived)
        held = set()
        for topic, (lane, spec) in self.lanes.items():
            above = highest.get(lane.base)
            if above is None or above >= lane.rank:
                self._since.pop(topic, None)
                self._open.pop(topic, None)
            elif self._held_now(topic, spec, now, topic in waiting, topic in fetched):
                held.add(topic)
            elif newest.get(lane.base, lane.rank) < lane.rank:
                held.add(topic)  # in its share, it steps aside for one update: see the module
        changed = held != self.held
        self.held = frozenset(held)
        return changed

    def _held_now(self, topic: str, spec: Lanes, now: float, waits: bool, fetched: bool) -> bool:
        opened = self._open.get(topic)
        if opened is None:
            since = self._since.setdefault(topic, now)
            if now - since < (1 - spec.share) * spec.period_s:
                return True
            self._open[topic] = now  # its share begins
            self._fetched.discard(topic)
            return False
        if fetched and topic not in self._fetched:
            # A share lasts its time from the lane's first events since it began: a resumed
            # partition may need more than the share to fetch again.
            self._fetched.add(topic)
            self._open[topic] = opened = now
        if now - opened < spec.share * spec.period_s or (waits and topic not in self._fetched):
            return False
        del self._open[topic]
        self._since[topic] = now
        return True


def _highest(
    lanes: Mapping[str, tuple[LaneTopic, Lanes]], topics: Collection[str]
) -> dict[str, int]:
    """Base topic -> the highest lane rank among `topics`."""
    highest: dict[str, int] = {}
    for topic in topics:
        found = lanes.get(topic)
        if found is not None:
            lane = found[0]
            highest[lane.base] = min(highest.get(lane.base, lane.rank), lane.rank)
    return highest
