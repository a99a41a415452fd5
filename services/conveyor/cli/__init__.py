"""The `conveyor` command line.

A distribution adds commands through the entry-point group `conveyor.commands` (see `main`);
such a command reads the process's settings and project with `settings_of(ctx)` and
`project_of(ctx)`.
"""

from conveyor.cli.context import project_of, settings_of

__all__ = ["project_of", "settings_of"]
