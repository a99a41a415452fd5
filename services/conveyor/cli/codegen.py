"""`conveyor schemas generate`, and the freshness check `conveyor schemas check --models` runs."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from conveyor.cli.context import project_of

SchemasOption = Annotated[
    Path | None,
    typer.Option(
        "--schemas", help="Directory of *.avsc files, any folder depth (default: the project's)."
    ),
]
TopologyOption = Annotated[
    Path | None,
    typer.Option(
        "--topology",
        help="The topology binding events to topics and keys (default: the project's; with "
        "--schemas, <schemas>/topics.yaml).",
    ),
]


def generate(
    ctx: typer.Context,
    schema_dir: SchemasOption = None,
    topology: TopologyOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="The module to write (default: the project's models file, else print it).",
        ),
    ] = None,
) -> None:
    """Write typed pydantic models of the newest version of every schema: one class per record
    and enum, each event bound to the topic and key the topology declares.

    Example: conveyor schemas generate --schemas schemas --out src/shop/events.py
    """
    from conveyor.codegen import generate_models

    if schema_dir is None:  # the project's contracts, and where its models go
        config = project_of(ctx).config
        schema_dir, topology, out = (
            config.schemas,
            topology or config.topology,
            out or config.generated,
        )
    source = generate_models(schema_dir, topology or schema_dir / "topics.yaml")
    if out is None:
        typer.echo(source, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(source, encoding="utf-8")
    typer.echo(f"wrote {out}")


def check_fresh(models: Path, schema_dir: Path, topology: Path | None) -> bool:
    """Whether the generated module `models` matches the schemas; says how to regenerate it
    when it does not."""
    from conveyor.codegen import COMMAND, is_stale

    topology_file = topology or schema_dir / "topics.yaml"
    if not is_stale(models, schema_dir, topology_file):
        return True
    options = ["--schemas", str(schema_dir), "--out", str(models)]
    if topology is not None:
        options[2:2] = ["--topology", str(topology)]
    typer.secho(
        f"{models} is stale: it does not match the schemas in {schema_dir}. Regenerate it:\n"
        f"  {COMMAND} {shlex.join(options)}",
        fg="red",
        err=True,
    )
    return False
