"""`conveyor replay <service>`: move a stopped service's offsets, plan first."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from conveyor.cli.context import broker_of, project_of

# The operations (and the Kafka client under them) load when the command runs, not for --help.
if TYPE_CHECKING:
    from conveyor.ops.broker import Broker
    from conveyor.ops.replay import ReplayPlan, Target

console = Console(stderr=True)


def command(
    ctx: typer.Context,
    service: Annotated[str, typer.Argument(help="The service (its consumer group).")],
    *,
    to_earliest: Annotated[bool, typer.Option(help="Back to the oldest retained event.")] = False,
    to_latest: Annotated[bool, typer.Option(help="Skip everything waiting.")] = False,
    to_time: Annotated[
        str | None, typer.Option(help="First event at/after this ISO-8601 time.")
    ] = None,
    to_offset: Annotated[
        list[str] | None, typer.Option(help="<partition>:<offset>, repeatable.")
    ] = None,
    shift_by: Annotated[
        int | None, typer.Option(help="Move by n (negative: back).", min=None)
    ] = None,
    topic: Annotated[
        list[str] | None, typer.Option(help="Only this input topic (repeatable).")
    ] = None,
    partitions: Annotated[
        str | None, typer.Option(help="Only these partitions, e.g. 0,2,5.")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Print the plan, change nothing.")] = False,
    follow: Annotated[bool, typer.Option(help="Then show progress until caught up.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the broker.")] = 10.0,
) -> None:
    """Move SERVICE's committed offsets so it handles events again (or skips them).

    Prints the plan first: per partition the committed offset, the new one, events to redo.

    Applies it with --yes, or after you confirm on a terminal; refuses while SERVICE runs.

    Handlers can ask whether they run in the replay window (see conveyor.replay).

    Example: conveyor replay welcome-email --to-time 2026-11-28T09:00:00Z --yes --follow
    """
    from conveyor.ops import replay as ops_replay
    from conveyor.ops.session import service_topology

    target = _target(to_earliest, to_latest, to_time, to_offset or [], shift_by)
    broker = broker_of(ctx, timeout)
    topology = service_topology(broker, service, project_of(ctx))
    plan = ops_replay.plan(broker, topology, target, topic or [], _partitions(partitions))
    _print(plan, as_json)
    if dry_run or not any(m.changes for m in plan.moves):
        console.print("dry run: nothing changed" if dry_run else "nothing to change")
        return
    ops_replay.ensure_stopped(broker, service)
    if not yes and not _confirmed(plan):
        console.print("not applied: run again with --yes to apply this plan")
        raise typer.Exit(1)
    ops_replay.apply(broker, plan)
    console.print(f"moved the offsets of {service}: {plan.reprocess} events to process again")
    if follow:
        _follow(broker, plan)


def _target(
    earliest: bool, latest: bool, at: str | None, offsets: list[str], shift: int | None
) -> Target:
    from conveyor.ops import replay as ops_replay
    from conveyor.ops.replay import AtOffsets, AtTime, Earliest, Latest, ShiftBy
    from conveyor.ops.timeparse import to_epoch_ms

    given = [earliest, latest, at is not None, bool(offsets), shift is not None]
    if sum(given) != 1:
        raise typer.BadParameter(
            "give exactly one of --to-earliest, --to-latest, --to-time, --to-offset, --shift-by"
        )
    if earliest:
        return Earliest()
    if latest:
        return Latest()
    if at is not None:
        return AtTime(to_epoch_ms(at))
    if shift is not None:
        return ShiftBy(shift)
    return AtOffsets(dict(ops_replay.parse_offset(text) for text in offsets))


def _partitions(text: str | None) -> list[int]:
    if not text:
        return []
    try:
        return [int(p) for p in text.split(",") if p.strip()]
    except ValueError as exc:
        raise typer.BadParameter(f"--partitions {text!r}: use numbers, e.g. 0,2,5") from exc


def _print(plan: ReplayPlan, as_json: bool) -> None:
    from conveyor.ops import replay as ops_replay

    if as_json:
        typer.echo(json.dumps(ops_replay.plan_as_dict(plan), indent=2))
        return
    table = Table(
        "topic", "partition", "committed", "new", "end", "to process again", "note",
        title=f"replay {plan.service} to {plan.target}",
    )  # fmt: skip
    for m in plan.moves:
        table.add_row(
            m.topic, str(m.partition), "-" if m.current is None else str(m.current),
            str(m.new), str(m.end), str(m.reprocess), m.note,
        )  # fmt: skip
    Console().print(table)
    Console().print(f"total: {plan.reprocess} events to process again")


def _confirmed(plan: ReplayPlan) -> bool:
    if not sys.stdin.isatty():
        return False
    return typer.confirm(f"apply this plan to {plan.service}?", default=False)


def _follow(broker: Broker, plan: ReplayPlan) -> None:
    from conveyor.ops import replay as ops_replay

    columns = (TextColumn("catching up"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("replay", total=None)

        def show(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        try:
            ops_replay.follow(broker, plan, show)
        except KeyboardInterrupt:
            return
    console.print(f"{plan.service} has caught up")
