"""The outbox relay in a process of its own (PostgreSQL), so the gateway process's interpreter
lock serves requests only.

A Python process runs one thread at a time. With the relay as a thread, its reads, its
producer's delivery reports and its marking took about a sixth of a core at 1,000 requests/s,
in the same lock the event loop and the writer wait for, and every request queued behind them.
So on PostgreSQL each gateway process starts a child, `python -m gateway.relay_process ARGS`
(the gateway's own arguments), that relays, or stands by while another process holds the
outbox's lock, as the thread did. The two talk over the child's stdin and stdout:

- each byte the gateway process writes is one of its commits: the relay reads at once. End of
  file means the gateway process is gone (stopped, or killed): the relay stops, lets what is in
  flight settle, and marks it.
- each line the child writes is a report: `relaying PENDING OLDEST_AGE` (the backlog, while it
  holds the outbox's lock) or `standby`. The gateway process serves them as its metrics, and
  sends `NOTIFY` with its commits only while its own relay stands by.

SQLite keeps the relay as a thread: its writes must take turns with the writer's in-process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from typing import IO

from conveyor.log_output import configure_json_logs
from conveyor.outbox import Backlog
from conveyor.settings import Settings
from gateway.database import Database
from gateway.relays import RelayThread, Report

RELAYING = "relaying"
STANDBY = "standby"


class RelayProcess:
    """The gateway process's side: starts the child, wakes it, and hands its reports to
    `on_report(backlog)` (`None`: the child stands by)."""

    def __init__(self, argv: list[str], on_report: Report, stop_timeout: float) -> None:
        """`stop_timeout`: how long `stop` waits for the child before killing it."""
        self._argv = argv
        self._on_report = on_report
        self._stop_timeout = stop_timeout
        self._child: subprocess.Popen[bytes] | None = None
        self._wake_fd = -1

    def start(self) -> None:
        child = subprocess.Popen(
            [sys.executable, "-m", "gateway.relay_process", *self._argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self._child = child
        if child.stdin is None or child.stdout is None:
            raise RuntimeError("the relay process was started without its pipes")
        self._wake_fd = child.stdin.fileno()
        os.set_blocking(self._wake_fd, False)
        reader = threading.Thread(
            target=self._read_reports, args=(child.stdout,), name="relay-reports"
        )
        reader.daemon = True
        reader.start()

    def wake(self) -> None:
        """Tell the relay this process committed rows (never blocks: a full pipe already
        holds a wake-up the relay has not read)."""
        with contextlib.suppress(BlockingIOError, BrokenPipeError, OSError):
            os.write(self._wake_fd, b"\0")

    def alive(self) -> bool:
        return self._child is not None and self._child.poll() is None

    def stop(self) -> None:
        """Close the wake-up pipe (the child stops, letting its deliveries settle) and wait
        for it; kill it after `stop_timeout`."""
        child = self._child
        if child is None:
            return
        self._wake_fd = -1  # no wake-up may land on the number once the pipe is closed
        if child.stdin is not None:
            with contextlib.suppress(OSError):
                child.stdin.close()
        try:
            child.wait(self._stop_timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()

    def _read_reports(self, stream: IO[bytes]) -> None:
        for line in stream:
            self._on_report(parse_report(line.decode()))
        self._on_report(None)  # the child ended: nothing relays here


def report_line(backlog: Backlog | None) -> str:
    if backlog is None:
        return f"{STANDBY}\n"
    return f"{RELAYING} {backlog.pending} {backlog.oldest_age:.3f}\n"


def parse_report(line: str) -> Backlog | None:
    fields = line.split()
    if fields[:1] != [RELAYING]:
        return None
    return Backlog(pending=int(fields[1]), oldest_age=float(fields[2]))


def main(argv: list[str]) -> int:
    """The child: relay the outbox of the gateway started with `argv` until its gateway
    process closes the pipe (it stopped, or it was killed)."""
    from gateway.main import config_from_args  # here: gateway.main starts this module's class

    settings = Settings.from_env(os.environ)
    config, _ = config_from_args(settings, argv)
    configure_json_logs()
    stop = threading.Event()
    out = sys.stdout

    def report(backlog: Backlog | None) -> None:
        with contextlib.suppress(OSError, ValueError):
            out.write(report_line(backlog))
            out.flush()

    relay = RelayThread.for_gateway(
        Database(config.database_url), config, settings.contracts().codec, stop, report
    )
    # It ends with its gateway process, at end of file, not on a signal sent to the whole
    # group (Ctrl-C, systemd): that process may still be committing rows it should relay.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)
    relay.start()
    threading.Thread(target=_wake_until_end_of_input, args=(relay, stop), daemon=True).start()
    relay.wait()  # until end of input, or a crash (logged by the relay's thread)
    relay.stop()
    return 0 if stop.is_set() else 1


def _wake_until_end_of_input(relay: RelayThread, stop: threading.Event) -> None:
    """Wake the relay for each byte the gateway process writes; stop it at end of file."""
    fd = sys.stdin.fileno()
    while os.read(fd, 4096):
        relay.wake()
    stop.set()
    relay.wake()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
