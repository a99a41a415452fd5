"""Service processes for the outage tests: start one, read its probes, its JSON log stream and
what it handled."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.publishing.gateway_process import free_port

WORKER = (sys.executable, "-m", "tests.clients.outage_worker")


def probe(port: int, path: str) -> tuple[int, str]:
    """A probe's status and body (`OSError` while nothing listens)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/{path}", timeout=5) as reply:
            return int(reply.status), reply.read().decode()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode()


class WorkerProcess:
    """One `tests.clients.outage_worker` process, its stderr kept in a file."""

    def __init__(  # noqa: PLR0917 - the worker's command line, in its order
        self,
        workdir: Path,
        label: str,
        bootstrap: str,
        topic: str,
        service: str,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.handled = workdir / "handled.log"
        self.handled.touch()
        self.stderr = workdir / f"{label}.stderr"
        self.process = subprocess.Popen(
            [*WORKER, bootstrap, topic, service, str(self.handled), str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=self.stderr.open("wb"),
            env=env,
        )

    def ready(self) -> int | None:
        """`/readyz`'s status, None while nothing listens."""
        try:
            return probe(self.port, "readyz")[0]
        except OSError:
            return None

    def handled_ids(self) -> set[str]:
        return set(self.handled.read_text().split())

    def log_lines(self) -> list[str]:
        return [line for line in self.stderr.read_text().splitlines() if line.strip()]

    def events(self) -> list[dict[str, Any]]:
        """Every stderr line as JSON (a raw line fails the parse: the stream must be JSON)."""
        return [json.loads(line) for line in self.log_lines()]

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        return self.process.wait(30)
