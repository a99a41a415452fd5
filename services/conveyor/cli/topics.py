"""`conveyor topics apply|list`: the project's declared topology on the cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from conveyor.cli.context import settings_of, topology_of

app = typer.Typer(no_args_is_help=True, help="The project's topic topology.")

FileOption = Annotated[
    Path | None, typer.Option("--file", help="The topology file (default: the project's).")
]
ProfileOption = Annotated[
    str | None, typer.Option(help="Overrides to merge in, e.g. production (RF 3, min ISR 2).")
]


@app.command(name="apply")
def apply_command(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan, change nothing.")
    ] = False,
    profile: ProfileOption = None,
    file: FileOption = None,
) -> None:
    """Create missing topics and update changed ones, printing the plan first. Refuses fewer
    partitions or another replication factor, and then changes nothing.

    Example: conveyor topics apply --dry-run --profile production
    """
    topology = topology_of(ctx, profile, file)
    from conveyor.topology import TopologyAdmin, apply

    admin = TopologyAdmin(settings_of(ctx).bootstrap_servers)
    planned = apply(topology, admin, dry_run=dry_run, report=typer.echo)
    if dry_run:
        typer.echo("dry run: nothing was changed")
    elif planned.changes:
        typer.echo(f"applied {len(planned.changes)} change(s)")


@app.command(name="list")
def list_command(
    ctx: typer.Context, profile: ProfileOption = None, file: FileOption = None
) -> None:
    """Each declared topic, declared and actual settings side by side.

    Example: conveyor topics list
    """
    topology = topology_of(ctx, profile, file)
    from conveyor.topology import TopologyAdmin, plan
    from conveyor.topology.plan import human_ms

    admin = TopologyAdmin(settings_of(ctx).bootstrap_servers)
    current = admin.describe(t.name for t in topology.topics)
    planned = plan(topology, current, admin.brokers())
    pending = {c.topic.name for c in planned.changes} | {r.topic for r in planned.refusals}
    table = Table("topic", "role", "declared", "actual", "state")
    for spec in topology.topics:
        declared = (
            f"{spec.partitions}p rf{spec.replication_factor} isr{spec.min_insync_replicas} "
            f"{human_ms(spec.retention_ms)} {spec.cleanup_policy}"
        )
        found = current.get(spec.name)
        actual = "-"
        if found is not None:
            retention = found.configs.get("retention.ms")
            actual = (
                f"{found.partitions}p rf{found.replication_factor} "
                f"isr{found.configs.get('min.insync.replicas', '?')} "
                f"{human_ms(int(retention)) if retention else '?'} "
                f"{found.configs.get('cleanup.policy', '?')}"
            )
        state = "missing" if found is None else ("differs" if spec.name in pending else "ok")
        table.add_row(spec.name, spec.role.value, declared, actual, state)
    Console().print(table)
