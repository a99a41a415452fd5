"""`conveyor schemas check|generate`: the project's schema versions against their compatibility
modes, and its generated models against its schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from conveyor.cli import codegen
from conveyor.cli.context import project_of

app = typer.Typer(no_args_is_help=True, help="The project's Avro contracts.")


@app.callback()
def _schemas() -> None:
    """The project's Avro contracts (schemas in [tool.conveyor], default schemas/)."""


@app.command(name="check")
def check_command(
    ctx: typer.Context,
    schemas_option: codegen.SchemasOption = None,
    models: Annotated[
        Path | None,
        typer.Option(
            "--models",
            help="A module `schemas generate` wrote, to check is fresh (default: the "
            "project's models file, when it names one).",
        ),
    ] = None,
    topology: codegen.TopologyOption = None,
) -> None:
    """Compare every version of each event with the earlier ones under its compatibility mode
    (compatibility.yaml; default BACKWARD_TRANSITIVE), and the generated models module with
    what the schemas generate now. Exits 1 on any violation or a stale module.

    Example: conveyor schemas check --schemas tests/contracts/fixtures/evolution/added-field
    """
    from conveyor.codec import SchemaSet
    from conveyor.codec.evolution import CompatibilityPolicy, check
    from conveyor.project.catalogue import load_schemas

    config = project_of(ctx).config
    schema_dir = schemas_option or config.schemas
    schemas = load_schemas(config) if schemas_option is None else SchemaSet.load(schema_dir)
    policy = CompatibilityPolicy.load(schema_dir)
    violations = check(schemas, policy)
    if schemas_option is None:
        models = models or config.generated
        topology = topology or config.topology
    fresh = models is None or codegen.check_fresh(models, schema_dir, topology)
    for violation in violations:
        mode = policy.mode_of(violation.subject.full_name)
        typer.secho(f"{violation} [{mode}]", fg="red", err=True)
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
