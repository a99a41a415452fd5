"""The echo-sink service: its settings, its one handler, and `main`."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

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


@dataclass(frozen=True)
class EchoSinkSettings:
    output: Path
    delay: float = 0.0
    group: str = NAME

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> EchoSinkSettings:
        """`ECHO_SINK_OUTPUT` (required), `ECHO_SINK_DELAY_MS`, `ECHO_SINK_GROUP`."""
        output = env.get("ECHO_SINK_OUTPUT")
        if not output:
            raise RuntimeConfigError("echo-sink needs ECHO_SINK_OUTPUT, the file to record into")
        delay = float(env.get("ECHO_SINK_DELAY_MS") or 0) / 1000
        return cls(Path(output), delay, env.get("ECHO_SINK_GROUP") or NAME)


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
    service = build_service(JsonLinesSink(own.output), own.delay, own.group)
    return run_service(service, settings, service_settings, settings.contracts().codec)
