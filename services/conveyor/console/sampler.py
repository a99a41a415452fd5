"""Samples every service's status every few seconds in a thread, keeping the latest status
and the last hour of points for the pages (which fetch them as JSON, never the broker)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from conveyor import logs
from conveyor.console.history import History, Point, activity
from conveyor.console.scope import ConsoleScope
from conveyor.console.settings import ConsoleSettings
from conveyor.errors import ConveyorError
from conveyor.log_output import ops_log as log
from conveyor.ops import status as ops_status
from conveyor.ops.status import Sample
from conveyor.ops.timeparse import iso

MAX_PARALLEL = 8


class Sampler:
    def __init__(self, scope: ConsoleScope, settings: ConsoleSettings) -> None:
        self._scope = scope
        self._interval = settings.sample_interval
        self._history = History(settings.history_points)
        self._previous: dict[str, Sample] = {}
        self._latest: dict[str, dict[str, Any]] = {}
        self._error: str | None = None
        self._taken_at_ms: int | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="console-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(self._scope.broker.timeout * 2)

    def sample_once(self) -> None:
        """One status of every service; a broker error is kept for the page, not raised."""
        try:
            topologies = self._scope.topologies()
            # One service's status takes a few broker round trips and short reads (about a
            # second): the services are sampled side by side, so a sample takes about that long.
            with ThreadPoolExecutor(max(1, min(MAX_PARALLEL, len(topologies)))) as pool:
                statuses = list(
                    pool.map(lambda t: ops_status.collect(self._scope.broker, t), topologies)
                )
            found = {
                s.service: ops_status.with_rate(self._previous.get(s.service), s) for s in statuses
            }
        except ConveyorError as exc:
            log.warning(logs.CONSOLE_SAMPLE_FAILED, error=str(exc))
            with self._lock:
                self._error = str(exc)
            return
        with self._lock:
            for name, status in found.items():
                self._previous[name] = status.sample
                self._history.add(name, Point.of(status))
                doc = ops_status.as_dict(status, verbose=True)
                doc["activity"] = activity(status, self._history.series(name))
                self._latest[name] = doc
            for gone in set(self._latest) - set(found):
                del self._latest[gone]
            self._error = None
            self._taken_at_ms = int(time.time() * 1000)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "taken_at": iso(self._taken_at_ms),
                "interval_seconds": self._interval,
                "error": self._error,
                "services": [
                    {**doc, "history": self._history.as_columns(name)}
                    for name, doc in sorted(self._latest.items())
                ],
            }

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample_once()
            self._stop.wait(self._interval)
