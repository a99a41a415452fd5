"""`conveyor pause SERVICE [--topic T]` and `conveyor resume SERVICE [--topic T]`."""

from __future__ import annotations

from typing import Annotated

import typer

from conveyor.cli.context import broker_of

_TOPIC = typer.Option("--topic", help="Only this topic (a declared name, e.g. user.signup).")


def pause(
    ctx: typer.Context,
    service: Annotated[str, typer.Argument(help="The service (its consumer group).")],
    topic: Annotated[str | None, _TOPIC] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the broker.")] = 10.0,
) -> None:
    """Stop every running member of SERVICE fetching (all its topics, or one) until resumed.

    Members finish and commit what they fetched; restarts and rebalances stay paused.

    Example: conveyor pause crm-sync
    """
    from conveyor.ops import pauses

    pauses.pause(broker_of(ctx, timeout), service, topic)
    typer.echo(f"paused {service}{' on ' + topic if topic else ''}")


def resume(
    ctx: typer.Context,
    service: Annotated[str, typer.Argument(help="The service (its consumer group).")],
    topic: Annotated[str | None, _TOPIC] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the broker.")] = 10.0,
) -> None:
    """Withdraw SERVICE's pauses (all, or the one of --topic).

    Example: conveyor resume crm-sync
    """
    from conveyor.ops import pauses

    withdrawn = pauses.resume(broker_of(ctx, timeout), service, topic)
    typer.echo(f"resumed {service}: {withdrawn} pause(s) withdrawn")
