"""A project's own contracts: where its schemas and topology live, and its event models.

`Project.discover(Path.cwd(), os.environ)` in a process's `main` finds `conveyor.toml` or
`[tool.conveyor]` in `pyproject.toml` from the working directory up; every command and service
takes the `Project` from there (codec, catalogue, topology), never this package's location.
"""

# The catalogue (`conveyor.project.catalogue`) is left out: it imports the codec, which a command
# that reads no schema should not pay for at start-up.
from conveyor.project.config import ProjectConfig, find_config_file
from conveyor.project.contracts import Project
from conveyor.project.errors import EventModelError, ProjectConfigError, ProjectError

__all__ = [
    "EventModelError",
    "Project",
    "ProjectConfig",
    "ProjectConfigError",
    "ProjectError",
    "find_config_file",
]
