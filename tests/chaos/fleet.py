"""The service processes of a chaos run: started, killed, terminated and restarted on
purpose, and watched for any that end without being asked to."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STARTED = b'"service.started"'


@dataclass
class Member:
    """One service process and what was asked of it."""

    name: str
    mode: str
    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path
    asked: str | None = None  # the signal it was sent on purpose

    def alive(self) -> bool:
        return self.process.poll() is None


@dataclass
class Exit:
    """A process that ended: who, how, and whether it was asked to."""

    name: str
    code: int
    signal: str | None  # None: nobody asked it to stop
    tail: str = ""

    @property
    def asked(self) -> bool:
        return self.signal is not None


@dataclass
class Fleet:
    """Processes of the ordered and the unordered service, each with its own environment and
    its own stdout and stderr files under `workdir`."""

    workdir: Path
    environments: dict[str, dict[str, str]]  # mode -> the process environment
    members: list[Member] = field(default_factory=list)
    exits: list[Exit] = field(default_factory=list)
    started: int = 0

    def start(self, mode: str) -> Member:
        self.started += 1
        name = f"{mode}-{self.started}"
        stdout, stderr = self.workdir / f"{name}.out", self.workdir / f"{name}.err"
        with stdout.open("wb") as out, stderr.open("wb") as err:
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.chaos.worker", mode],
                cwd=REPO,
                env={**self.environments[mode], "PYTHONPATH": str(REPO)},
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
            )
        member = Member(name, mode, process, stdout, stderr)
        self.members.append(member)
        return member

    def wait_started(self, member: Member, timeout: float = 60) -> None:
        """Until the process has logged `service.started` (its signal handlers are set: a
        SIGTERM before that ends it as it would any Python program)."""
        deadline = time.monotonic() + timeout
        while STARTED not in member.stderr.read_bytes():
            if not member.alive() or time.monotonic() > deadline:
                return  # the checks report a process that never started or ended unasked
            time.sleep(0.2)

    def running(self, mode: str | None = None) -> list[Member]:
        return [m for m in self.members if m.alive() and mode in (None, m.mode)]

    def kill(self, member: Member) -> None:
        """SIGKILL, as the OOM killer or a lost node would."""
        self._stop(member, signal.SIGKILL, timeout=10)

    def terminate(self, member: Member, timeout: float = 60) -> None:
        """SIGTERM, as a rolling deployment would: the process drains, commits and exits 0."""
        self._stop(member, signal.SIGTERM, timeout)

    def _stop(self, member: Member, signum: signal.Signals, timeout: float) -> None:
        self.watch()  # an exit before this one was not asked for
        member.asked = signum.name
        member.process.send_signal(signum)
        try:
            member.process.wait(timeout)
        except subprocess.TimeoutExpired:
            member.process.kill()
            member.process.wait(10)
        self._record(member)

    def watch(self) -> None:
        """Record every process that has ended since the last look."""
        for member in self.members:
            if not member.alive():
                self._record(member)

    def stop_all(self) -> None:
        for member in self.running():
            self.terminate(member)

    def kill_all(self) -> None:
        """The last resort of a failed run: nothing may outlive the harness."""
        for member in self.members:
            if member.alive():
                member.process.kill()
                member.process.wait(10)

    def log_files(self) -> list[Path]:
        return [path for m in self.members for path in (m.stdout, m.stderr)]

    def _recorded(self, member: Member) -> bool:
        return any(e.name == member.name for e in self.exits)

    def _record(self, member: Member) -> None:
        if self._recorded(member):
            return
        code = member.process.returncode
        unexpected = member.asked is None or (member.asked == "SIGTERM" and code != 0)
        tail = _tail(member.stderr) if unexpected else ""
        self.exits.append(Exit(member.name, code, member.asked, tail))


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def service_environment(bootstrap: str, **values: str) -> dict[str, str]:
    """The environment of a service process: the parent's, the broker, and `values`."""
    return {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, **values}
