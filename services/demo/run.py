"""A demo run from start to finish: bring the pipeline up, drive traffic while killing and
restarting one service, wait for the outcome to settle, check it, and always clean up."""

from __future__ import annotations

import shutil
import signal
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from rich import box
from rich.console import Console
from rich.live import Live
from rich.table import Table

from conveyor.project import Project
from conveyor.settings import Settings
from demo.monitor import Monitor
from demo.options import DemoOptions
from demo.outcome import Check, check_outcome
from demo.plan import make_plan
from demo.processes import ProcessGroup
from demo.stack import Endpoints, Stack
from demo.traffic import Driver, Sent, Timed

KILL_AT = 0.4  # share of the traffic's duration after which the victim is SIGKILLed
DOWN_FOR = 3.0  # seconds before it is started again
CHECK_EVERY = 3.0


def run_demo(
    settings: Settings, options: DemoOptions, base_env: Mapping[str, str], console: Console
) -> int:
    """Returns 0 when every check holds, 1 when one fails; 130 on Ctrl-C."""
    workdir = options.workdir or Path(tempfile.mkdtemp(prefix="conveyor-demo-"))
    started = time.monotonic()

    def say(text: str) -> None:
        console.print(f"[dim]{time.monotonic() - started:5.1f}s[/dim] {text}")

    stack = Stack(settings, options, workdir, base_env, say)
    passed = False
    try:
        with _interrupt_on_signals():
            endpoints = stack.up()
            say(f"pipeline up; logs in {workdir / 'logs'}")
            checks = _drive(
                options, endpoints, stack.processes, console, say, project=settings.contracts()
            )
        passed = all(check.ok for check in checks)
        console.print(_report(checks))
        verdict = "[green]PASS[/green]" if passed else "[red]FAIL[/red]"
        console.print(f"{verdict} in {time.monotonic() - started:.0f}s")
        return 0 if passed else 1
    except KeyboardInterrupt:
        say("interrupted: stopping every process")
        return 130
    finally:
        stack.down()
        if options.workdir is None and passed:
            shutil.rmtree(workdir, ignore_errors=True)
        elif not passed:
            say(f"kept {workdir} for inspection (logs/, mail/, state/)")


Say = Callable[[str], None]


def _drive(
    options: DemoOptions,
    endpoints: Endpoints,
    processes: ProcessGroup,
    console: Console,
    say: Say,
    *,
    project: Project,
) -> list[Check]:
    plan = make_plan(options)
    driver = Driver(endpoints.gateway, plan, uuid.uuid4().hex[:8])
    monitor = Monitor(endpoints.metrics, processes)
    monitor.start()
    try:
        with _display(monitor, console, options.live):
            monitor.phase = "traffic"
            say(
                f"sending {options.signups} signups and {options.orders} orders "
                f"over {options.duration:.0f}s through {endpoints.gateway}"
            )
            driver.run(_kill_and_restart(options, processes, say))
            say(f"traffic done: {driver.sent.requests} requests accepted; waiting for the outcome")
            monitor.phase = "settling"
            return _settle(driver.sent, endpoints, project, options.settle_timeout, console)
    finally:
        monitor.stop()
        driver.close()


def _kill_and_restart(options: DemoOptions, processes: ProcessGroup, say: Say) -> list[Timed]:
    victim = options.kill
    if victim is None:
        return []

    def kill() -> None:
        pid = processes.kill(victim)
        say(f"[bold red]SIGKILL {victim}[/bold red] (pid {pid}) mid-stream")

    def restart() -> None:
        running = processes.restart(victim)
        say(f"restarted {victim} (pid {running.process.pid})")

    at = options.duration * KILL_AT
    return [(at, kill), (at + DOWN_FOR, restart)]


def _settle(
    sent: Sent, endpoints: Endpoints, project: Project, timeout: float, console: Console
) -> list[Check]:
    """Check until every check holds or `timeout` passes; the last result counts."""
    deadline = time.monotonic() + timeout
    while True:
        checks = check_outcome(sent, endpoints, project)
        if all(check.ok for check in checks) or time.monotonic() > deadline:
            return checks
        time.sleep(CHECK_EVERY)


def _report(checks: list[Check]) -> Table:
    table = Table(title="outcome", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("check", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("detail")
    for check in checks:
        result = "[green]ok[/green]" if check.ok else "[red]FAILED[/red]"
        table.add_row(check.name, result, check.detail)
    return table


@contextmanager
def _display(monitor: Monitor, console: Console, live: bool) -> Iterator[None]:
    if live:
        with Live(get_renderable=monitor.table, console=console, refresh_per_second=2):
            yield
        return
    stop = threading.Event()

    def print_summary() -> None:
        while not stop.wait(5.0):
            console.print(monitor.summary())

    printer = threading.Thread(target=print_summary, daemon=True)
    printer.start()
    try:
        yield
    finally:
        stop.set()
        printer.join()
        console.print(monitor.table())


@contextmanager
def _interrupt_on_signals() -> Iterator[None]:
    """SIGINT and SIGTERM both end the demo as Ctrl-C does, so every way out cleans up the same
    (SIGINT explicitly too: a shell starts background jobs with it ignored)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = {
        signum: signal.signal(signum, interrupt) for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
