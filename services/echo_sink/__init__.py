"""echo-sink: an example consumer service that records each `UserSignedUp` it handles.

Each handled event becomes one JSON line (pid, partition, offset, user id, event id) in the file
`ECHO_SINK_OUTPUT` names, written before the handler returns, so tests that kill the process can
tell exactly what was handled. `ECHO_SINK_DELAY_MS` makes each handler take that long (async).

    ECHO_SINK_OUTPUT=/tmp/echo.jsonl conveyor run echo-sink
"""

from echo_sink.service import EchoSinkSettings, JsonLinesSink, build_service, main

__all__ = ["EchoSinkSettings", "JsonLinesSink", "build_service", "main"]
