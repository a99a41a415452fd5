"""Long actions (a redrive) run in a thread; the page polls their progress by id."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from conveyor import logs
from conveyor.log_output import ops_log as log

Work = Callable[[Callable[[], None]], int]
"""The job's work: called with a function to call once per item done; returns items done."""


@dataclass
class Job:
    id: int
    action: str
    service: str
    total: int
    done: int = 0
    state: str = "running"  # running | finished | failed
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Jobs:
    def __init__(self) -> None:
        self._jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def start(self, action: str, service: str, total: int, work: Work) -> Job:
        job = Job(next(self._ids), action, service, total)
        with self._lock:
            self._jobs[job.id] = job
        threading.Thread(target=self._run, args=(job, work), daemon=True).start()
        return job

    def get(self, job_id: int) -> dict[str, Any] | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return None if job is None else job.as_dict()

    def _run(self, job: Job, work: Work) -> None:
        def advance() -> None:
            with self._lock:
                job.done += 1

        try:
            done = work(advance)
        except Exception as exc:  # whatever stops the work must reach the page
            log.error(
                logs.CONSOLE_ACTION_FAILED, action=job.action, service=job.service, error=str(exc)
            )
            with self._lock:
                job.state, job.error = "failed", str(exc)
            return
        with self._lock:
            job.done, job.state = done, "finished"
