"""The log events the operations write: an audit trail of what changed a group or a topic.

They go to stderr (through the process's structlog processors), so a command's stdout stays its
own output: tables and JSON that scripts read.
"""

from __future__ import annotations

import sys
from typing import Any, Final

import structlog

REPLAY_APPLIED: Final = "replay.applied"
REDRIVE_STARTED: Final = "redrive.started"
REDRIVE_BATCH_COMMITTED: Final = "redrive.batch_committed"
REDRIVE_FINISHED: Final = "redrive.finished"
REDRIVE_INTERRUPTED: Final = "redrive.interrupted"
# `conveyor console`: its start, each action an operator asked for (accepted or refused, with
# who, what and when) and a status sample that failed.
CONSOLE_STARTED: Final = "console.started"
CONSOLE_ACTION: Final = "console.action"
CONSOLE_ACTION_REFUSED: Final = "console.action_refused"
CONSOLE_ACTION_FAILED: Final = "console.action_failed"
CONSOLE_SAMPLE_FAILED: Final = "console.sample_failed"


class _Stderr:
    """Writes each rendered line to the current `sys.stderr` (looked up per line, as tests and
    the CLI runner swap it)."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    debug = info = warning = error = critical = exception = msg


log: Any = structlog.wrap_logger(_Stderr(), logger_name="conveyor.ops")
