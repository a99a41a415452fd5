"""`conveyor console`: a web console over the operations layer (`conveyor.ops`).

Pages for the services (status with the last hour as charts), a service's dead letters (with
redrive), the replay of a stopped service and an entity's journey, served by Starlette from the
broker's state alone. Everything it shows or does goes through the functions the CLI calls. The
assets (one HTML page, a script, a style sheet) ship inside the package: no page loads anything
from another host. Needs the `console` extra: `pip install 'conveyor[console]'`.
"""

from conveyor.console.settings import ConsoleSettings, Token

__all__ = ["ConsoleSettings", "Token"]
