"""`conveyor init DIR`: a new service repository, ready to run and to test.

The files come from `templates/` (package data), filled in with the service's name; the models
module is generated from the example schema as `conveyor schemas generate` would write it.
"""

from conveyor.scaffold.project import NewProject, ScaffoldError, scaffold

__all__ = ["NewProject", "ScaffoldError", "scaffold"]
