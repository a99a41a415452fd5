"""Operators' controls of running services: pause and resume through a compacted topic."""

from conveyor.control.pauses import Paused, pause_key, pause_value
from conveyor.control.watcher import PauseWatcher

__all__ = ["PauseWatcher", "Paused", "pause_key", "pause_value"]
