"""Entry point of the `conveyor` command: reads the settings once and dispatches.

Other distributions add commands through the entry-point group `conveyor.commands`: each entry
names a function (a command of the entry's name) or a `typer.Typer` (a group), as the reference
pipeline adds `conveyor demo`.
"""

from __future__ import annotations

import sys
from importlib.metadata import entry_points

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
from conveyor.cli.context import Invocation
from conveyor.errors import ConveyorError

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


def _flags_off(app: typer.Typer) -> dict[str, object]:
    """`--help` off in `app` and each of its groups, as defaults. Typer runs an option's
    default value through a pydantic adapter unless it is a bool, and leaves a group's `--help`
    (and the root's completion options) at None: without these, `conveyor <command> --help`
    would load pydantic to learn that an option nobody gave is off."""
    groups = app.registered_groups
    return {
        "help": False,
        **{g.name: _flags_off(g.typer_instance) for g in groups if g.name and g.typer_instance},
    }


_DEFAULTS = {**_flags_off(cli), "install_completion": False, "show_completion": False}


@cli.callback(context_settings={"default_map": _DEFAULTS})
def _root(ctx: typer.Context) -> None:
    ctx.ensure_object(Invocation)  # the settings are read when the command asks for them


def _configure_logs() -> None:
    from conveyor.log_output import configure_cli_logs

    configure_cli_logs()


def app() -> None:
    """Run the CLI; conveyor's own errors print as one clear message and exit 2. Its logs go
    to stderr, so stdout holds only a command's output (`status --json` stays JSON); they are
    set up with the settings, so `--help` loads no logging library."""
    try:
        cli(obj=Invocation(on_start=_configure_logs))
    except ConveyorError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(2)
