"""`conveyor delayed status|cancel`: the events waiting for their time, and cancelling one."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from conveyor.cli.context import broker_of, project_of, settings_of

if TYPE_CHECKING:  # the ops and publish layers load when a command runs, not for `--help`
    from conveyor.ops.delayed import DelayedStatus

app = typer.Typer(no_args_is_help=True, help="Delayed events: what waits, and cancelling one.")


@app.command("status")
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the broker.")] = 10.0,
) -> None:
    """Per destination topic: delayed events waiting and the next due time.

    Example: conveyor delayed status --json
    """
    from conveyor.ops.delayed import delayed_status

    found = delayed_status(broker_of(ctx, timeout))
    if as_json:
        typer.echo(json.dumps(found.as_dict() if found else {}, indent=2))
        return
    typer.echo(describe(found))


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    event_id: Annotated[str, typer.Argument(help="The event id of the delayed event.")],
) -> None:
    """Cancel a delayed event not delivered yet.

    Example: conveyor delayed cancel 6f1c0c1e-0d4e-4c36-9a43-5c7d2c1f5b10
    """
    from conveyor.publish import Publisher, PublisherConfig

    config = PublisherConfig.from_settings(settings_of(ctx))
    with Publisher(config, project_of(ctx).codec) as publisher:
        publisher.cancel_delayed(event_id).wait(config.delivery_timeout)
    typer.echo(f"cancelled {event_id} (unless the scheduler had begun delivering it)")


def describe(found: DelayedStatus | None) -> str:
    if found is None:
        return "delayed: no delay topic"
    if not found.by_topic:
        return "delayed: nothing waiting"
    lines = []
    for topic, waiting in sorted(found.by_topic.items()):
        due = waiting.next_due_ms or 0
        at = datetime.fromtimestamp(due / 1000, UTC).isoformat(timespec="seconds")
        lines.append(f"delayed for {topic}: {waiting.events} waiting, next due {at}")
    return "\n".join(lines)
