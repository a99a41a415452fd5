"""How long a thread may keep CPython's GIL while another thread waits for it.

A service runs Python on several threads: the poll thread (fetch, decode, dispatch), the
handlers' event loop, and the pool threads of sync handlers. A thread coming back from C, as
the poll thread does from librdkafka's consume after every poll, waits for the GIL until the
holder lets go or the switch interval forces it to. At CPython's default of 5 ms, busy sync
handler threads kept the poll thread waiting most of each poll, and the handlers then ran out
of fetched events: a no-op sync handler ran at 16,300 events/s with every thread mostly idle.
At 0.5 ms it ran at 34,000-43,000 events/s.

Only sync handlers need it. With async handlers alone, the poll thread and the loop thread
hand each other the GIL when they wait anyway, and forcing a switch every 0.5 ms only costs
them: a no-op async handler took 17.2-17.3 µs of CPU per event at 5 ms against 18.5-19.2 µs
at 0.5 ms (2 interleaved pairs). So by default the interval is shortened for services with a
sync handler only.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from conveyor.runtime.service import Registration

SYNC_HANDLER_INTERVAL_MS = 0.5


def interval_for(registrations: Iterable[Registration], configured: float | None) -> float:
    """The interval to set, in milliseconds (0 leaves the interpreter's): the configured one,
    or by default 0.5 ms when a sync handler runs on the thread pool."""
    if configured is not None:
        return configured
    has_sync = any(not registration.is_async for registration in registrations)
    return SYNC_HANDLER_INTERVAL_MS if has_sync else 0


def set_switch_interval(milliseconds: float) -> None:
    """Set the interpreter's switch interval (0 leaves it as it is)."""
    if milliseconds > 0:
        sys.setswitchinterval(milliseconds / 1000)
