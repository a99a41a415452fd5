"""`conveyor status`: per service, what waits, retries, is parked or dead-lettered."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from conveyor.cli import delayed
from conveyor.cli.context import broker_of, project_of

# The operations (and the Kafka client under them) load when the command runs, not for --help.
if TYPE_CHECKING:
    from conveyor.ops.broker import Broker
    from conveyor.ops.status import Sample, ServiceStatus, Thresholds
    from conveyor.ops.topology import ServiceTopology
    from conveyor.project import Project


def command(
    ctx: typer.Context,
    services: Annotated[
        list[str] | None, typer.Argument(help="Services to show (default: all).")
    ] = None,
    *,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Per partition.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    watch: Annotated[bool, typer.Option(help="Refresh a table in place until Ctrl-C.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between refreshes.")] = 2.0,
    sample: Annotated[
        float, typer.Option(help="Seconds between the two samples behind events/s (0: skip).")
    ] = 1.0,
    max_lag: Annotated[
        int | None, typer.Option(help="Exit 1 when more events wait in a service.")
    ] = None,
    max_lag_seconds: Annotated[
        float | None, typer.Option(help="Exit 1 when a service's oldest waiting event is older.")
    ] = None,
    max_dead_letters: Annotated[
        int | None, typer.Option(help="Exit 1 when a service holds more dead letters.")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the broker.")] = 10.0,
) -> None:
    """Per service: waiting, retrying, parked, dead letters, members, state, events/s.

    Waiting is the lag in events and the age in seconds of the oldest waiting event.

    Everything is read from the broker, so it is right while a service is down.

    Exits 1 past any threshold given, so cron or CI can alert on it.

    Example: conveyor status welcome-email --max-lag 1000 --max-lag-seconds 60
    """
    from conveyor.ops import status as ops_status
    from conveyor.ops.delayed import delayed_status
    from conveyor.ops.status import Thresholds

    broker = broker_of(ctx, timeout)
    topologies = _topologies(broker, services or [], project_of(ctx))
    limits = Thresholds(max_lag, max_lag_seconds, max_dead_letters)
    if watch:
        _watch(broker, topologies, verbose, interval, limits)
        return
    first = {t.service: ops_status.sample(broker, t) for t in topologies} if sample > 0 else {}
    time.sleep(sample)
    found = [
        ops_status.with_rate(first.get(t.service), ops_status.collect(broker, t))
        for t in topologies
    ]
    if as_json:
        typer.echo(json.dumps([ops_status.as_dict(s, verbose) for s in found], indent=2))
    else:
        Console().print(_render(found, verbose, limits))
        typer.echo(delayed.describe(delayed_status(broker)))
    breaches = [b for s in found for b in limits.breaches(s)]
    for breach in breaches:
        typer.secho(f"threshold: {breach}", fg="red", err=True)
    if breaches:
        raise typer.Exit(1)


def _topologies(broker: Broker, names: list[str], project: Project) -> list[ServiceTopology]:
    from conveyor.ops.session import all_services, service_topology

    if names:
        return [service_topology(broker, name, project) for name in names]
    return all_services(broker, project)


def _watch(
    broker: Broker,
    topologies: list[ServiceTopology],
    verbose: bool,
    every: float,
    limits: Thresholds,
) -> None:
    """Refresh the table in place; rows past a threshold turn red. Ctrl-C ends it."""
    from conveyor.ops import status as ops_status

    previous: dict[str, Sample] = {}
    with Live(console=Console(), auto_refresh=False) as live:
        try:
            while True:
                found = []
                for topology in topologies:
                    current = ops_status.collect(broker, topology)
                    found.append(ops_status.with_rate(previous.get(topology.service), current))
                    previous[topology.service] = current.sample
                live.update(_render(found, verbose, limits), refresh=True)
                time.sleep(every)
        except KeyboardInterrupt:
            return


def _waiting(status: ServiceStatus) -> str:
    """Events waiting, and under it those of each lane that has any."""
    lanes = [f"{lane} {n}" for lane, n in status.lanes.items() if n]
    return "\n".join([str(status.waiting), *lanes])


def _render(found: list[ServiceStatus], verbose: bool, limits: Thresholds) -> Table | Group:
    table = Table(
        "service", "state", "members", "waiting", "oldest (s)", "retrying",
        "parked", "dead", "events/s", title="conveyor status",
    )  # fmt: skip
    for s in found:
        tiers = ((t.removeprefix(f"{s.service}."), n) for t, n in s.retrying.items())
        retrying = " ".join(f"{tier}:{n}" for tier, n in tiers) or "-"
        rate = "-" if s.events_per_second is None else f"{s.events_per_second:.1f}"
        state = s.state if not s.paused else f"paused ({' '.join(s.paused)}) {s.state}"
        table.add_row(
            s.service, state, str(len(s.members)), _waiting(s),
            f"{s.waiting_seconds:.1f}", retrying, str(s.parked), str(s.dead_lettered), rate,
            style="red" if limits.breaches(s) else None,
        )  # fmt: skip
    if not verbose:
        return table
    detail = Table("service", "topic", "partition", "committed", "end", "lag", "oldest (s)")
    for s in found:
        for p in s.partitions + s.retry_partitions:
            detail.add_row(
                s.service, p.topic, str(p.partition),
                "-" if p.committed is None else str(p.committed), str(p.end), str(p.lag),
                f"{p.lag_seconds(s.taken_at_ms):.1f}",
            )  # fmt: skip
    return Group(table, detail)
