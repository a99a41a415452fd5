"""`conveyor dlq list|show|redrive <service>`: inspect dead letters, send them back."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from conveyor.cli.context import broker_of, project_of, settings_of

# The operations (and the Kafka client under them) load when a command runs, not for --help.
if TYPE_CHECKING:
    from conveyor.ops.broker import Broker
    from conveyor.ops.deadletters import DeadLetter
    from conveyor.ops.redrive import RedrivePlan
    from conveyor.ops.topology import ServiceTopology

app = typer.Typer(no_args_is_help=True, help="Inspect and redrive a service's dead letters.")
console = Console(stderr=True)

Service = Annotated[str, typer.Argument(help="The service whose <service>.dlq to read.")]
ErrorType = Annotated[
    str | None, typer.Option(help="Error type: full name or last part (TimeoutError).")
]
Key = Annotated[str | None, typer.Option(help="Only this event key (entity id).")]
Since = Annotated[str | None, typer.Option(help="Dead-lettered at/after (ISO-8601).")]
Until = Annotated[str | None, typer.Option(help="Dead-lettered before (ISO-8601).")]
Topic = Annotated[str | None, typer.Option(help="Only events from this original topic.")]
Lane = Annotated[str | None, typer.Option(help="Only events from this lane (x-lane).")]
Timeout = Annotated[float, typer.Option(help="Seconds to wait for the broker.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command("list")
def list_(
    ctx: typer.Context,
    service: Service,
    *,
    error_type: ErrorType = None,
    key: Key = None,
    since: Since = None,
    until: Until = None,
    topic: Topic = None,
    lane: Lane = None,
    limit: Annotated[int | None, typer.Option(help="Show at most this many.")] = None,
    pending: Annotated[bool, typer.Option(help="Only letters not redriven yet.")] = False,
    as_json: AsJson = False,
    timeout: Timeout = 10.0,
) -> None:
    """List SERVICE's dead letters; each id is <partition>:<offset> in <service>.dlq.

    Example: conveyor dlq list payments --error-type TimeoutError --since 2026-11-28T09:00Z
    """
    from conveyor.ops import ledger
    from conveyor.ops.deadletters import DeadLetterFilter
    from conveyor.ops.timeparse import iso

    selection = DeadLetterFilter.parse(error_type, key, since, until, topic, lane=lane)
    broker, topology = _open(ctx, service, timeout)
    with _scanning() as progress:
        letters = [x for x in _read(broker, topology, progress) if selection.matches(x)]
    done = ledger.load(broker, service, settle=0)
    letters = [x for x in letters if not (pending and x.position in done)]
    letters = letters[:limit] if limit is not None else letters
    docs = [{**x.summary(), "redriven_at": iso(done.get(x.position))} for x in letters]
    if as_json:
        typer.echo(json.dumps(docs, indent=2))
        return
    table = Table(
        "id", "key", "event type", "error", "from", "lane", "attempts", "redrives", "at",
        "redriven",
    )  # fmt: skip
    for s in docs:
        table.add_row(
            s["id"], s["key"] or "-", s["event_type"] or "-", s["error_type"] or "-",
            f"{s['original_topic']}[{s['original_partition']}]@{s['original_offset']}",
            s["lane"] or "-", str(s["attempts"] or "-"), str(s["redrive_count"]),
            s["dead_lettered_at"] or "-", s["redriven_at"] or "-",
        )  # fmt: skip
    Console().print(table)
    console.print(f"{len(letters)} dead letter(s)")


@app.command()
def show(
    ctx: typer.Context,
    service: Service,
    letter_id: Annotated[str, typer.Argument(metavar="ID", help="<partition>:<offset>.")],
    *,
    as_json: AsJson = False,
    timeout: Timeout = 10.0,
) -> None:
    """Show one dead letter: every header, and the event decoded.

    Example: conveyor dlq show payments 0:42
    """
    from conveyor.ops import deadletters

    broker, topology = _open(ctx, service, timeout)
    letter = deadletters.find(broker, topology, deadletters.parse_position(letter_id))
    doc = deadletters.detail(letter, project_of(ctx).codec)
    if as_json:
        typer.echo(json.dumps(doc, indent=2))
        return
    Console().print_json(json.dumps(doc))


@app.command("redrive")
def redrive_(
    ctx: typer.Context,
    service: Service,
    *,
    error_type: ErrorType = None,
    key: Key = None,
    since: Since = None,
    until: Until = None,
    topic: Topic = None,
    lane: Lane = None,
    letter_id: Annotated[
        list[str] | None, typer.Option("--id", help="<partition>:<offset>, repeatable.")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every dead letter (no filter).")] = False,
    rate: Annotated[float | None, typer.Option(help="Events per second at most.")] = None,
    max_redrives: Annotated[
        int, typer.Option(help="Hold back letters redriven this often already.")
    ] = 3,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Redrive without asking.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Print the plan, change nothing.")] = False,
    as_json: AsJson = False,
    timeout: Timeout = 10.0,
) -> None:
    """Send selected dead letters back through SERVICE only, each key's in original order.

    They go to SERVICE's first retry tier, due now (<service>.redrive without tiers).

    Prints the plan first; a run cut short resumes without duplicates; parked keys are released.

    Example: conveyor dlq redrive payments --error-type TimeoutError --rate 50 --yes
    """
    from conveyor.ops import deadletters, redrive
    from conveyor.ops.deadletters import DeadLetterFilter
    from conveyor.ops.redrive import RedriveOptions
    from conveyor.tracing import configure_tracing

    selection = DeadLetterFilter.parse(error_type, key, since, until, topic, lane=lane)
    ids = frozenset(deadletters.parse_position(x) for x in letter_id or []) or None
    if not (all_ or ids or selection != DeadLetterFilter()):
        raise typer.BadParameter("select dead letters with a filter or --id, or pass --all")
    options = RedriveOptions(rate=rate, max_redrives=max_redrives)
    broker, topology = _open(ctx, service, timeout)
    with _scanning() as progress:
        letters = list(_read(broker, topology, progress))
    plan = redrive.plan(broker, topology, selection, ids=ids, options=options, letters=letters)
    _print_plan(plan, as_json)
    if dry_run or not plan.letters:
        console.print("dry run: nothing changed" if dry_run else "nothing to redrive")
        return
    if not yes and not (sys.stdin.isatty() and typer.confirm("redrive these?", default=False)):
        console.print("not redriven: run again with --yes to redrive")
        raise typer.Exit(1)
    columns = (TextColumn("redriving"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    tracing = configure_tracing(settings_of(ctx).tracing, "conveyor-redrive")
    try:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("redrive", total=len(plan.letters))
            written = redrive.execute(
                broker, plan, options, on_progress=lambda _: progress.advance(task)
            )
    finally:
        tracing.close()
    console.print(f"redrove {written} event(s) into {plan.target}")


def _open(ctx: typer.Context, service: str, timeout: float) -> tuple[Broker, ServiceTopology]:
    from conveyor.ops.session import service_topology

    broker = broker_of(ctx, timeout)
    return broker, service_topology(broker, service, project_of(ctx))


@contextmanager
def _scanning() -> Iterator[Progress]:
    columns = (TextColumn("reading dead letters"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        yield progress


def _read(broker: Broker, topology: ServiceTopology, progress: Progress) -> Iterator[DeadLetter]:
    from conveyor.ops import deadletters

    task = progress.add_task("scan", total=None)
    yield from deadletters.read_all(
        broker,
        topology,
        on_total=lambda total: progress.update(task, total=total),
        on_read=lambda: progress.advance(task),
    )


def _print_plan(plan: RedrivePlan, as_json: bool) -> None:
    from conveyor.ops import parked, redrive

    if as_json:
        typer.echo(json.dumps(redrive.plan_as_dict(plan), indent=2))
        return
    out = Console()
    out.print(
        f"redrive {len(plan.letters)} event(s) of {plan.keys} key(s) from {plan.service}.dlq "
        f"into {plan.target}"
    )
    if plan.releases:
        keys = sorted(parked.readable(k) for k in plan.releases)
        out.print(f"releases parked key(s): {', '.join(keys)}")
    if plan.already_redriven:
        out.print(f"{plan.already_redriven} matching letter(s) were redriven before: skipped")
    for s in plan.skipped:
        out.print(f"held back {s.letter.id}: {s.reason}")
