"""Serve the console with uvicorn until Ctrl-C or SIGTERM."""

from __future__ import annotations

import uvicorn

from conveyor import logs
from conveyor.console.app import build_app
from conveyor.console.sampler import Sampler
from conveyor.console.scope import ConsoleScope
from conveyor.console.settings import ConsoleSettings
from conveyor.log_output import ops_log as log
from conveyor.ops.broker import Broker
from conveyor.project import Project


def serve(broker: Broker, project: Project, settings: ConsoleSettings) -> None:
    scope = ConsoleScope(broker, settings.services, project)
    app = build_app(scope, settings, Sampler(scope, settings))
    log.info(
        logs.CONSOLE_STARTED,
        url=f"http://{settings.host}:{settings.port}/",
        allow_actions=settings.allow_actions,
        services=list(settings.services) or "all",
    )
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", access_log=False)
