"""`conveyor schemas check`: every event's schema versions against its compatibility mode."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from conveyor.cli import codegen
from conveyor.codec import DEFAULT_SCHEMA_DIR, SchemaSet
from conveyor.codec.evolution import CompatibilityPolicy, check

app = typer.Typer(no_args_is_help=True, help="The Avro contracts in schemas/.")


@app.callback()
def _schemas() -> None:
    """The Avro contracts in schemas/."""


@app.command(name="check")
def check_command(
    schema_dir: Annotated[
        Path, typer.Option("--schemas", help="Directory of *.avsc files and compatibility.yaml.")
    ] = DEFAULT_SCHEMA_DIR,
    models: Annotated[
        Path | None,
        typer.Option("--models", help="A module `schemas generate` wrote, to check is fresh."),
    ] = None,
    topology: codegen.TopologyOption = None,
) -> None:
    """Compare every version of each event with the earlier ones under its compatibility mode
    (compatibility.yaml; default BACKWARD_TRANSITIVE), and the generated models module (with
    --models) with what the schemas generate now. Exits 1 on any violation or a stale module.

    Example: conveyor schemas check --schemas tests/contracts/fixtures/evolution/added-field
    """
    schemas = SchemaSet.load(schema_dir)
    policy = CompatibilityPolicy.load(schema_dir)
    violations = check(schemas, policy)
    fresh = models is None or codegen.check_fresh(models, schema_dir, topology)
    for violation in violations:
        typer.secho(f"{violation}", fg="red", err=True)
    if violations:
        typer.secho(
            f"{len(violations)} compatibility violation(s) in {schema_dir}", fg="red", err=True
        )
        raise typer.Exit(1)
    if not fresh:
        raise typer.Exit(1)
    names = schemas.names()
    versions = sum(len(schemas.versions(name)) for name in names)
    modes = ", ".join(f"{name.rsplit('.', 1)[-1]} {policy.mode_of(name)}" for name in names)
    typer.echo(f"ok: {len(names)} events, {versions} schema versions ({modes})")


app.command(name="generate")(codegen.generate)
