"""`conveyor tail <topic>`: decode and print events, like kcat but readable."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from conveyor.cli.context import broker_of, project_of


def command(
    ctx: typer.Context,
    topic: Annotated[str, typer.Argument(help="The topic to read.")],
    *,
    from_beginning: Annotated[bool, typer.Option(help="From the oldest retained event.")] = False,
    from_time: Annotated[
        str | None, typer.Option(help="From the first event at/after this ISO-8601 time.")
    ] = None,
    key: Annotated[str | None, typer.Option(help="Only events with this key.")] = None,
    max_events: Annotated[
        int | None, typer.Option("--max", help="Stop after this many events.")
    ] = None,
    until_end: Annotated[
        bool, typer.Option("--until-end", "-e", help="Stop at the end instead of waiting.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the broker.")] = 10.0,
) -> None:
    """Print TOPIC's events decoded: key, partition, offset, headers and body.

    Waits for new events until Ctrl-C, unless --until-end or --max.

    Example: conveyor tail order.events --from-time 2026-11-28T09:00:00Z --key o-42 --json
    """
    if from_beginning and from_time is not None:
        raise typer.BadParameter("give --from-beginning or --from-time, not both")
    from conveyor.ops import tail as ops_tail
    from conveyor.ops.tail import TailOptions
    from conveyor.ops.timeparse import to_epoch_ms

    options = TailOptions(
        from_beginning=from_beginning,
        from_time_ms=to_epoch_ms(from_time) if from_time else None,
        key=key,
        max_events=max_events,
        stop_at_end=until_end,
    )
    broker = broker_of(ctx, timeout)
    codec = project_of(ctx).codec
    out = Console()
    try:
        for record in ops_tail.tail(broker, topic, options):
            doc = ops_tail.describe(record, codec)
            if as_json:
                typer.echo(json.dumps(doc))
            else:
                out.rule(
                    f"{record.topic}[{record.partition}]@{record.offset}  key={record.key_text}"
                )
                out.print_json(json.dumps(doc))
    except KeyboardInterrupt:
        return
