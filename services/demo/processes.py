"""The OS processes of a demo run: started in their own session, each logging to a file,
SIGKILLed and restarted on request, and all stopped on the way out (Ctrl-C included)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from demo.errors import ProcessFailedError

# `conveyor <args>` with this interpreter, whatever is on PATH.
CONVEYOR = (sys.executable, "-c", "import sys; from conveyor.cli.main import app; app()")


@dataclass
class Spec:
    """How to start one process and how to tell it is ready."""

    name: str
    argv: list[str]
    env: Mapping[str, str]
    ready: Callable[[], bool] | None = None  # None: ready once started


def http_ready(url: str) -> Callable[[], bool]:
    def answers() -> bool:
        try:
            return httpx.get(url, timeout=1.0).is_success
        except httpx.HTTPError:
            return False

    return answers


def tcp_ready(host: str, port: int) -> Callable[[], bool]:
    def accepts() -> bool:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return True
        except OSError:
            return False

    return accepts


@dataclass
class Running:
    spec: Spec
    process: subprocess.Popen[bytes]
    log_path: Path
    restarts: int = 0


class ProcessGroup:
    def __init__(self, log_dir: Path, base_env: Mapping[str, str]) -> None:
        """`base_env`: the environment every process inherits (the demo's own, read in main)."""
        self._base_env = dict(base_env)
        self._log_dir = log_dir
        self._log_dir.mkdir(parents=True, exist_ok=True)
        self._running: dict[str, Running] = {}

    def start(self, spec: Spec) -> Running:
        log_path = self._log_dir / f"{spec.name}.log"
        with log_path.open("ab") as out:
            process = subprocess.Popen(
                spec.argv,
                env={**self._base_env, **spec.env},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in the terminal reaches the demo only
            )
        previous = self._running.get(spec.name)
        running = Running(spec, process, log_path, previous.restarts + 1 if previous else 0)
        self._running[spec.name] = running
        return running

    def wait_ready(self, names: list[str], timeout: float) -> None:
        """Wait until every named process answers its ready URL; raise when one exits."""
        deadline = time.monotonic() + timeout
        pending = list(names)
        while pending:
            for name in list(pending):
                self._check_alive(name)
                ready = self._running[name].spec.ready
                if ready is None or ready():
                    pending.remove(name)
            if pending and time.monotonic() > deadline:
                raise ProcessFailedError(
                    f"{', '.join(pending)} not ready after {timeout:.0f}s; see "
                    + ", ".join(str(self._running[n].log_path) for n in pending)
                )
            if pending:
                time.sleep(0.2)

    def kill(self, name: str) -> int:
        """SIGKILL a process (no shutdown, no commit): returns its pid."""
        process = self._running[name].process
        process.send_signal(signal.SIGKILL)
        process.wait()
        return process.pid

    def restart(self, name: str) -> Running:
        return self.start(self._running[name].spec)

    def pid(self, name: str) -> int:
        return self._running[name].process.pid

    def restarts(self, name: str) -> int:
        return self._running[name].restarts

    def exited(self) -> list[str]:
        """Processes that stopped by themselves."""
        return [name for name, run in self._running.items() if run.process.poll() is not None]

    def _check_alive(self, name: str) -> None:
        running = self._running[name]
        code = running.process.poll()
        if code is not None:
            raise ProcessFailedError(
                f"{name} exited with {code} during start-up; see {running.log_path}:\n"
                + _tail(running.log_path)
            )

    def stop_all(self, timeout: float = 15.0, report: Callable[[str], None] | None = None) -> None:
        """SIGTERM everything (services drain and commit), SIGKILL what is left after `timeout`."""
        for run in self._running.values():
            if run.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(run.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for name, run in self._running.items():
            try:
                run.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                if report:
                    report(f"{name} ignored SIGTERM; killing it")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(run.process.pid, signal.SIGKILL)
                run.process.wait()


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
