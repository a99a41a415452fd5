"""`conveyor console`: the web console (services, dead letters, replay, an entity's journey)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from conveyor.cli.context import broker_of, project_of, settings_of


def command(
    ctx: typer.Context,
    services: Annotated[
        list[str] | None, typer.Argument(help="Services to show (default: all).")
    ] = None,
    *,
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8088,
    allow_actions: Annotated[
        bool,
        typer.Option(help="Allow redrives and replays from the pages (needs a token)."),
    ] = False,
    interval: Annotated[float, typer.Option(help="Seconds between status samples.")] = 5.0,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the broker.")] = 10.0,
) -> None:
    """Serve a web console of the pipeline, read from the broker alone.

    Pages: services (last hour as charts), dead letters, replay, an entity's journey.

    Read-only unless --allow-actions: actions then need CONVEYOR_CONSOLE_TOKEN.

    Example: CONVEYOR_CONSOLE_TOKEN=$(openssl rand -hex 24) conveyor console --allow-actions
    """
    try:
        from conveyor.console.server import serve
    except ModuleNotFoundError as exc:
        raise typer.BadParameter(
            f"the console needs {exc.name}: pip install 'conveyor[console]'"
        ) from exc
    from conveyor.console.settings import ConsoleSettings, ConsoleVariables

    # the one variable the console reads itself: a secret is no command-line option
    token = ConsoleVariables.from_env(os.environ).action_token()
    settings = ConsoleSettings(
        host=host,
        port=port,
        services=tuple(services or ()),
        allow_actions=allow_actions,
        token=token,
        sample_interval=interval,
        broker_timeout=timeout,
    )
    from conveyor.tracing import configure_tracing

    # Redrives from the console are traced as the CLI's are (their writes join the events' traces).
    tracing = configure_tracing(settings_of(ctx).tracing, "conveyor-console")
    try:
        serve(broker_of(ctx, timeout), project_of(ctx), settings)
    finally:
        tracing.close()
