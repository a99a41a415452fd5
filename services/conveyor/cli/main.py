"""Entry point of the `conveyor` command: reads the settings once and dispatches.

Other distributions add commands through the entry-point group `conveyor.commands`: each entry
names a function (a command of the entry's name) or a `typer.Typer` (a group), as the reference
pipeline adds `conveyor demo`.
"""

from __future__ import annotations

import os
import sys
from importlib.metadata import entry_points
from pathlib import Path

import typer

from conveyor.cli import (
    acls,
    console,
    control,
    delayed,
    dlq,
    init,
    kafka,
    replay,
    run,
    schemas,
    settings,
    status,
    tail,
    topics,
)
from conveyor.clients import connection
from conveyor.errors import ConveyorError
from conveyor.log_output import configure_cli_logs
from conveyor.settings import Settings

cli = typer.Typer(
    no_args_is_help=True,
    help="conveyor: typed domain events on Apache Kafka.",
    pretty_exceptions_enable=False,
)
cli.add_typer(kafka.app, name="kafka")
cli.add_typer(schemas.app, name="schemas")
cli.add_typer(topics.app, name="topics")
cli.add_typer(acls.app, name="acls")
cli.command("run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(
    run.run
)
cli.command("status")(status.command)
cli.command("replay")(replay.command)
cli.add_typer(dlq.app, name="dlq")
cli.add_typer(delayed.app, name="delayed")
cli.command("pause")(control.pause)
cli.command("resume")(control.resume)
cli.command("tail")(tail.command)
cli.command("console")(console.command)
cli.command("init")(init.init)
cli.command("settings")(settings.command)


PLUGIN_GROUP = "conveyor.commands"


def _add_plugins(root: typer.Typer) -> None:
    for entry in entry_points(group=PLUGIN_GROUP):
        command = entry.load()
        if isinstance(command, typer.Typer):
            root.add_typer(command, name=entry.name)
        else:
            root.command(entry.name)(command)


_add_plugins(cli)


@cli.callback()
def _root(ctx: typer.Context) -> None:
    ctx.obj = Settings.from_env(os.environ, Path.cwd())
    ctx.with_resource(connection.using(ctx.obj.client))


def app() -> None:
    """Run the CLI; conveyor's own errors print as one clear message and exit 2. Its logs go
    to stderr, so stdout holds only a command's output (`status --json` stays JSON)."""
    configure_cli_logs()
    try:
        cli()
    except ConveyorError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(2)
