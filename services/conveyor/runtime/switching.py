"""How long a thread may keep CPython's GIL while another thread waits for it.

A service runs Python on several threads: the poll thread (fetch, decode, dispatch), the
handlers' event loop, and the pool threads of sync handlers. A thread coming back from C, as
the poll thread does from librdkafka's consume after every poll, waits for the GIL until the
holder lets go or the switch interval forces it to. At CPython's default of 5 ms, busy handler
threads kept the poll thread waiting most of each poll, and the handlers then ran out of
fetched events: a no-op sync handler ran at 16,300 events/s with every thread mostly idle. At
0.5 ms it ran at 34,000-43,000 events/s; a no-op async handler showed no clear change.
"""

from __future__ import annotations

import sys


def set_switch_interval(milliseconds: float) -> None:
    """Set the interpreter's switch interval (0 leaves it as it is)."""
    if milliseconds > 0:
        sys.setswitchinterval(milliseconds / 1000)
