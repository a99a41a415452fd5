"""Replay: a stopped service's offsets moved back, and the events it then handles again.

`conveyor replay` (`conveyor.ops.replay`, planned and applied by an operator) records, before it
moves a group's offsets, the group's replay windows in the compacted `conveyor.replays` topic
(`windows`); the runtime loads them once when the service starts (`loading`) and answers
`ctx.in_replay` from them. Both depend on this package; it depends on neither.
"""

from conveyor.replay.loading import for_service, load
from conveyor.replay.windows import ReplayWindows

__all__ = ["ReplayWindows", "for_service", "load"]
