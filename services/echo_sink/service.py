"""The echo-sink service: its settings, its one handler, and `main`."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from conveyor.environment import EnvModel, variable
from conveyor.errors import ConveyorError
from conveyor.runtime import (
    Context,
    HandlerPolicy,
    Ordering,
    RuntimeConfigError,
    Service,
    ServiceSettings,
    configure_json_logs,
    run_service,
)
from conveyor.settings import Settings
from shop_events import UserSignedUp

NAME = "echo-sink"


class EchoSinkSettings(EnvModel):
    """The echo sink's own variables (its consumer's are `ServiceSettings`)."""

    settings_error: ClassVar[type[ConveyorError]] = RuntimeConfigError

    output: Path | None = variable(
        "ECHO_SINK_OUTPUT",
        None,
        description="The file each handled event is recorded in, one JSON line (required).",
        example="/tmp/echo.jsonl",
    )
    delay: float = variable(
        "ECHO_SINK_DELAY_MS",
        0.0,
        unit="ms",
        description="How long each event's handling sleeps.",
        example="20",
        ge=0,
    )
    group: str = variable(
        "ECHO_SINK_GROUP", NAME, description="The service's name and group.", example="echo-2"
    )

    def recording(self) -> Path:
        if self.output is None:
            raise RuntimeConfigError("echo-sink needs ECHO_SINK_OUTPUT, the file to record into")
        return self.output


class JsonLinesSink:
    """Appends one JSON object per line; each line is one `write` to an O_APPEND file, so lines
    of several processes sharing the file never interleave."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def record(self, record: Mapping[str, object]) -> None:
        os.write(self._fd, (json.dumps(record) + "\n").encode())


def build_service(sink: JsonLinesSink, delay: float, name: str = NAME) -> Service:
    service = Service(name)

    @service.handler(UserSignedUp, policy=HandlerPolicy(ordering=Ordering.ORDERED))
    async def echo(event: UserSignedUp, ctx: Context) -> None:
        if delay:
            await asyncio.sleep(delay)
        sink.record(
            {
                "pid": os.getpid(),
                "partition": ctx.meta.partition,
                "offset": ctx.meta.offset,
                "user_id": event.user_id,
                "event_id": str(event.event_id),
            }
        )

    return service


def main(settings: Settings, argv: list[str]) -> int:
    env = os.environ
    service_settings = ServiceSettings.from_env(env)
    own = EchoSinkSettings.from_env(env)
    configure_json_logs(service_settings.log_level)
    service = build_service(JsonLinesSink(own.recording()), own.delay, own.group)
    return run_service(service, settings, service_settings, settings.contracts().codec)
