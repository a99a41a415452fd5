"""`conveyor init DIR`: scaffold a new service repository."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def init(
    directory: Annotated[Path, typer.Argument(help="Where to create the project.")],
    name: Annotated[
        str | None,
        typer.Option("--name", help="Service name (default: the directory's name)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Write into a non-empty directory.")
    ] = False,
) -> None:
    """Create a service repository: schemas with one example event and its topology, the
    generated models, a service with one handler and its test, a Dockerfile and a README.

    Example: conveyor init order-emails
    """
    from conveyor.scaffold import NewProject, scaffold

    project = NewProject(name or directory.resolve().name)
    for path in scaffold(directory, project, force=force):
        typer.echo(f"wrote {path}")
    typer.echo(
        f"\nNext: cd {directory} && pytest, then conveyor kafka up, conveyor topics apply and "
        f"conveyor run {project.package}.service:service"
    )
