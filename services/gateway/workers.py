"""Several gateway processes on one listening socket (`--workers N`, PostgreSQL).

The parent binds the API port, forks the workers (before it starts any thread or client, so
each worker starts clean) and then only waits: it passes SIGINT and SIGTERM on to them, and when
one worker ends on its own it stops the others and exits with that worker's code, so the
supervisor (Kubernetes, systemd) restarts the whole gateway rather than running it short of a
worker. The kernel hands each new connection to one of the workers waiting on the socket.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
from collections.abc import Callable
from types import FrameType

import structlog

from gateway import logs

log = structlog.get_logger("gateway")
_BACKLOG = 2048


def bind(host: str, port: int) -> socket.socket:
    """The API's listening socket, inherited by every worker."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(_BACKLOG)
    sock.set_inheritable(True)
    return sock


def run_workers(count: int, work: Callable[[int], int]) -> int:
    """Fork `count` processes that each run `work(index)`; return once all have ended."""
    children: dict[int, int] = {}
    for index in range(count):
        pid = os.fork()
        if pid == 0:
            _child(work, index)
        children[pid] = index
    stopping = False

    def stop_all(signum: int, _frame: FrameType | None = None) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop_all)
    code = 0
    while children:
        pid, status = os.wait()
        index = children.pop(pid)
        exit_code = os.waitstatus_to_exitcode(status)
        if not stopping:
            log.error(logs.WORKER_EXITED, worker=index, exit_code=exit_code)
            code = exit_code or 1
            stop_all(signal.SIGTERM)
    return code


def _child(work: Callable[[int], int], index: int) -> None:
    """Run one worker and end its process with its code (never returns into the parent's loop)."""
    code = 1
    try:
        code = work(index)
    except Exception:
        log.exception(logs.WORKER_FAILED, worker=index)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
