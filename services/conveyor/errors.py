"""The one tree of errors conveyor raises.

Every error derives from `ConveyorError`. Errors that carry a fix say it in their message, because
the person reading it is usually at a terminal with a broken setup.
"""


class ConveyorError(Exception):
    """Root of every error raised by conveyor."""


class LauncherError(ConveyorError):
    """The local Kafka launcher could not do what it was asked."""


class JavaNotFoundError(LauncherError):
    """No usable Java 17+ runtime."""


class MavenNotFoundError(LauncherError):
    """`mvn` is needed to fetch the Kafka jars and is missing."""


class PortInUseError(LauncherError):
    """A port the local broker needs is already taken."""


class NodeNotReadyError(LauncherError):
    """A broker process did not answer within its timeout."""
