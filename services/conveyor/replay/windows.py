"""Replay windows: which offsets a group is processing again because of a replay.

`conveyor replay` records, before it moves a group's offsets, per partition the window
`[new offset, old committed offset)` in the compacted topic `conveyor.replays` (key: the group,
value: the JSON of `ReplayWindows.to_json`). Events inside the window were handled before; a
handler that must not repeat a side effect during a replay can ask, e.g.:

    def send_welcome(event: UserSignedUp, ctx: Context) -> None:
        if ctx.in_replay:  # replaying signups after a bug fix: they got their e-mail already
            return
        mailer.send_welcome(event.email, event.name)
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

TP = tuple[str, int]


@dataclass(frozen=True)
class ReplayWindows:
    """A group's replay windows: per partition, `[start, until)` offsets being replayed."""

    group: str
    windows: Mapping[TP, tuple[int, int]] = field(default_factory=dict)
    recorded_at_ms: int | None = None

    def contains(self, topic: str, partition: int, offset: int) -> bool:
        """Whether the event at this position was handled before a replay brought it back."""
        start, until = self.windows.get((topic, partition), (0, 0))
        return start <= offset < until

    def merged(self, moves: Mapping[TP, tuple[int, int | None]]) -> ReplayWindows:
        """The windows after moving offsets `(new, old committed)`: a window still open keeps
        its end, so replaying during a replay does not forget what was handled before."""
        windows = dict(self.windows)
        for tp, (new, old) in moves.items():
            until = windows.get(tp, (0, 0))[1]
            still_open = old is not None and old < until
            end = max(until if still_open else 0, old if old is not None else 0)
            if new < end:
                windows[tp] = (new, end)
            else:
                windows.pop(tp, None)
        return ReplayWindows(self.group, windows, int(time.time() * 1000))

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "group": self.group,
                "recorded_at": self.recorded_at_ms,
                "windows": [
                    {"topic": t, "partition": p, "start": s, "until": u}
                    for (t, p), (s, u) in sorted(self.windows.items())
                ],
            }
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> ReplayWindows:
        doc = json.loads(data)
        return cls(
            group=doc["group"],
            windows={
                (w["topic"], w["partition"]): (w["start"], w["until"]) for w in doc["windows"]
            },
            recorded_at_ms=doc.get("recorded_at"),
        )
