"""`conveyor settings`: every environment variable conveyor reads, as the README's table."""

from __future__ import annotations

import typer


def command() -> None:
    """Print every environment variable conveyor reads: its default and what it sets, as a
    markdown table (the README's "Settings" section is this output)."""
    from conveyor.variables import library_table

    typer.echo(library_table(), nl=False)
