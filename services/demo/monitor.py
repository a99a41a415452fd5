"""The live view: each service's /metrics scraped once a second into one row of a table."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Protocol

import httpx
from prometheus_client.parser import text_string_to_metric_families
from rich import box
from rich.table import Table

COUNTERS = {
    "processed": "conveyor_events_processed",
    "failed": "conveyor_events_failed",
    "retried": "conveyor_events_retried",
    "dead_lettered": "conveyor_events_dead_lettered",
}
GAUGES = {
    "in_flight": "conveyor_in_flight",
    "lag": "conveyor_partition_lag",
    "retrying": "conveyor_retry_tier_depth",
    "parked": "conveyor_parked_keys",
}


class ProcessView(Protocol):
    """What the table shows of the processes (a `ProcessGroup`)."""

    def pid(self, name: str) -> int: ...

    def restarts(self, name: str) -> int: ...


@dataclass
class Row:
    """One service's figures. Counters survive restarts (a restarted process counts from 0)."""

    up: bool = False
    counters: dict[str, float] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0.0))
    carried: dict[str, float] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0.0))
    gauges: dict[str, float] = field(default_factory=lambda: dict.fromkeys(GAUGES, 0.0))
    rate: float = 0.0

    def total(self, name: str) -> float:
        return self.counters[name] + self.carried[name]


class Monitor:
    """Scrapes in a background thread; `table()` renders the latest figures."""

    def __init__(self, metrics: dict[str, str], processes: ProcessView) -> None:
        self._metrics = metrics
        self._processes = processes
        self._rows = {name: Row() for name in metrics}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-monitor", daemon=True)
        self.started = time.monotonic()
        self.phase = "starting"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def rows(self) -> dict[str, Row]:
        with self._lock:
            return dict(self._rows)

    def table(self) -> Table:
        elapsed = time.monotonic() - self.started
        table = Table(
            title=f"conveyor demo: {self.phase} ({elapsed:.0f}s)",
            title_justify="left",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
            caption="done: processed; busy: in flight; retry: in retry tiers or parked; failed: "
            "attempts that raised; dead: dead-lettered; lag: events waiting; ↻: restarts",
            caption_justify="left",
        )
        table.add_column("service", no_wrap=True)
        for column in ("pid", "done", "busy", "retry", "failed", "dead", "lag", "ev/s"):
            table.add_column(column, justify="right", no_wrap=True)
        with self._lock:
            for name, row in self._rows.items():
                restarts = self._processes.restarts(name)
                pid = str(self._processes.pid(name)) if row.up else "[red]down[/red]"
                table.add_row(
                    name,
                    pid + (f" ↻{restarts}" if restarts else ""),
                    f"{row.total('processed'):.0f}",
                    f"{row.gauges['in_flight']:.0f}",
                    f"{row.gauges['retrying'] + row.gauges['parked']:.0f}",
                    f"{row.total('failed'):.0f}",
                    f"{row.total('dead_lettered'):.0f}",
                    f"{row.gauges['lag']:.0f}",
                    f"{row.rate:.1f}",
                )
        return table

    def summary(self) -> str:
        """One line per refresh, for logs (when the live table is off)."""
        with self._lock:
            parts = [
                f"{name}={row.total('processed'):.0f}/lag {row.gauges['lag']:.0f}"
                for name, row in self._rows.items()
            ]
        return f"[{time.monotonic() - self.started:5.0f}s {self.phase}] " + " ".join(parts)

    def _run(self) -> None:
        last = time.monotonic()
        with httpx.Client(timeout=1.0) as http:
            while not self._stop.wait(1.0):
                now = time.monotonic()
                for name, url in self._metrics.items():
                    self._scrape(http, name, url, now - last)
                last = now

    def _scrape(self, http: httpx.Client, name: str, url: str, interval: float) -> None:
        try:
            text = http.get(url).text
        except httpx.HTTPError:
            with self._lock:
                self._rows[name].up = False
            return
        counters = dict.fromkeys(COUNTERS, 0.0)
        gauges = dict.fromkeys(GAUGES, 0.0)
        for family in text_string_to_metric_families(text):
            for key, metric in COUNTERS.items():
                if family.name == metric:
                    counters[key] += sum(
                        s.value for s in family.samples if s.name.endswith("_total")
                    )
            for key, metric in GAUGES.items():
                if family.name == metric:
                    gauges[key] += sum(s.value for s in family.samples)
        with self._lock:
            row = self._rows[name]
            before = row.total("processed")
            for key, value in counters.items():
                if value < row.counters[key]:  # the process restarted: keep what it had counted
                    row.carried[key] += row.counters[key]
                row.counters[key] = value
            row.gauges = gauges
            row.up = True
            row.rate = max(0.0, row.total("processed") - before) / max(interval, 0.001)
