"""`conveyor acls apply`: one least-privilege principal per service, from the topology."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from conveyor.cli.context import settings_of, topology_of

app = typer.Typer(no_args_is_help=True, help="ACLs of conveyor's principals on a secured cluster.")


@app.command(name="apply")
def apply_command(
    ctx: typer.Context,
    *,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the difference, change nothing.")
    ] = False,
    prune: Annotated[
        bool, typer.Option(help="Also delete grants of these principals no longer derived.")
    ] = False,
    password_file: Annotated[
        Path | None,
        typer.Option(help="`user=password` lines: create or update these SCRAM-SHA-512 users."),
    ] = None,
    profile: Annotated[str | None, typer.Option(help="Topology overrides to merge in.")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="The topology file (default: the project's).")
    ] = None,
) -> None:
    """Grant each service, the gateway, the outbox relay and the operator exactly what the
    topology says they need, printing the difference first (+ to add, - no longer needed).
    Connects with the KAFKA_* client settings (an admin or ACL-managing principal).

    Example: conveyor acls apply --dry-run
    """
    # imported here: the ACL rules and pydantic cost a third of a second of every `conveyor --help`
    from pydantic import SecretStr

    from conveyor.acls import AclAdmin, apply, derive, principals
    from conveyor.clients.config import read_properties
    from conveyor.clients.connection import connection_settings

    topology = topology_of(ctx, profile, file)
    settings = settings_of(ctx)
    passwords = (
        {user: SecretStr(p) for user, p in read_properties(password_file).items()}
        if password_file
        else {}
    )
    admin = AclAdmin(connection_settings(settings.bootstrap_servers, settings.client))
    planned = apply(
        derive(topology), principals(topology), admin, dry_run=dry_run, prune=prune,
        report=typer.echo,
    )  # fmt: skip
    if dry_run:
        users = f"; would set SCRAM users {', '.join(sorted(passwords))}" if passwords else ""
        typer.echo(f"dry run: nothing was changed{users}")
        return
    admin.upsert_users(passwords)
    removed = len(planned.extra) if prune else 0
    typer.echo(
        f"added {len(planned.add)}, removed {removed} grant(s); "
        f"SCRAM users set: {', '.join(sorted(passwords)) or 'none'}"
    )
